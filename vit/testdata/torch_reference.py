"""Independent PyTorch reference for frankenvit's ViT: forward pass, training loss and its gradients.

Reads {"cases": [case, ...]} from stdin. A case is
  {"config": {...}, "stem": {name: [values]}, "blocks": [{name: [values]}, ...],
   "plans": [[block number per slot], ...], "head": {...}, "images": [values] (normalised, [B, C, H, W]),
   "labels": [class per image], "pos_weight": w}
where "plans" holds one plan for the whole batch or one per image, each naming entries of "blocks"
(a block may appear at several slots, in several plans, or in none). Prints a list with, per case,
  {"logits": [B*classes], "slot_logits": [[B*slots] per slot] (one plan for the batch only),
   "loss": L, "grads": {"stem": {name: [values]}, "blocks": [{name: [values]}, ...], "head": {...}}}
where L is the training loss
  mean_b CE(logits_b, label_b) + w * mean over slots s of mean_b CE(slot_head(h_b after slot s), s),
the second term only for blocks that carry a slot head (a slot the head has no class for adds 0), and
"grads" its gradient with respect to every tensor given (zeros for tensors the plans do not use).

Everything is float64 autograd with torch.nn.functional, each image run on its own through its own
plan, so nothing is shared with the Go code but the weights and the definition of the loss.
"""
import json
import sys

import torch
import torch.nn.functional as F

EPS = 1e-6


def leaves(tensors):
    """Flat float64 leaves; the model reshapes them, so gradients come back in the layout given."""
    return {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in tensors.items()}


def block_forward(h, blk, E, slot, c):
    """One pre-LN encoder block on h [1, T, D], with the variant's slot projection before it."""
    D, heads, M = c["dim"], c["heads"], c["mlp"]
    T = h.shape[1]
    hd = D // heads
    if "pos_proj.fc.weight" in blk:
        e = E[slot].expand(1, T, -1)
        cat = torch.cat([h, e], dim=-1)
        Wd = cat.shape[-1]
        z = F.layer_norm(cat, (Wd,), blk["pos_proj.norm.weight"], blk["pos_proj.norm.bias"], EPS)
        h = h + F.gelu(F.linear(z, blk["pos_proj.fc.weight"].reshape(D, Wd), blk["pos_proj.fc.bias"]))
    y = F.layer_norm(h, (D,), blk["norm1.weight"], blk["norm1.bias"], EPS)
    qkv = F.linear(y, blk["attn.qkv.weight"].reshape(3 * D, D), blk["attn.qkv.bias"])
    q, k, v = qkv.reshape(1, T, 3, heads, hd).permute(2, 0, 3, 1, 4)
    att = torch.softmax(q @ k.transpose(-2, -1) / hd ** 0.5, dim=-1) @ v
    att = att.transpose(1, 2).reshape(1, T, D)
    h = h + F.linear(att, blk["attn.proj.weight"].reshape(D, D), blk["attn.proj.bias"])
    y = F.layer_norm(h, (D,), blk["norm2.weight"], blk["norm2.bias"], EPS)
    y = F.gelu(F.linear(y, blk["mlp.fc1.weight"].reshape(M, D), blk["mlp.fc1.bias"]))
    return h + F.linear(y, blk["mlp.fc2.weight"].reshape(D, M), blk["mlp.fc2.bias"])


def slot_head(h, blk, D):
    """Slot logits [1, slots] from the token mean of a block's output, or None without a slot head."""
    if "pos_head.fc.weight" not in blk:
        return None
    m = F.layer_norm(h.mean(dim=1), (D,), blk["pos_head.norm.weight"], blk["pos_head.norm.bias"], EPS)
    L = blk["pos_head.fc.bias"].shape[0]
    return F.linear(m, blk["pos_head.fc.weight"].reshape(L, D), blk["pos_head.fc.bias"])


def run(case):
    c = case["config"]
    C, H, W, P = c["channels"], c["image_height"], c["image_width"], c["patch"]
    D, classes = c["dim"], c["classes"]
    stem, head = leaves(case["stem"]), leaves(case["head"])
    blocks = [leaves(b) for b in case["blocks"]]
    x = torch.tensor(case["images"], dtype=torch.float64).reshape(-1, C, H, W)
    B = x.shape[0]
    plans = case["plans"]
    if len(plans) == 1:
        plans = plans * B
    slots = len(plans[0])
    labels = torch.tensor(case["labels"], dtype=torch.long)
    E = stem["layer_pos_embed"].reshape(c["depth"], -1) if "layer_pos_embed" in stem else None

    logits, slot_logits = [], [[] for _ in range(slots)]
    slot_loss = torch.zeros((), dtype=torch.float64)
    for b in range(B):
        tok = F.conv2d(x[b:b + 1], stem["patch_embed.proj.weight"].reshape(D, C, P, P), stem["patch_embed.proj.bias"], stride=P)
        tok = tok.flatten(2).transpose(1, 2)  # [1, N, D]
        h = torch.cat([stem["cls_token"].reshape(1, 1, D), tok], dim=1) + stem["pos_embed"].reshape(1, -1, D)
        for slot, k in enumerate(plans[b]):
            h = block_forward(h, blocks[k], E, slot, c)
            s = slot_head(h, blocks[k], D)
            if s is not None and slot < s.shape[1]:  # a head predicts only the slots it has classes for
                slot_logits[slot].append(s)
                slot_loss = slot_loss + F.cross_entropy(s, torch.tensor([slot]), reduction="sum")
        y = F.layer_norm(h[:, 0], (D,), head["norm.weight"], head["norm.bias"], EPS)
        logits.append(F.linear(y, head["head.weight"].reshape(classes, D), head["head.bias"]))
    logits = torch.cat(logits)
    tasks = len(c.get("tasks") or []) or 1
    if tasks == 1:
        class_loss = F.cross_entropy(logits, labels)
    else:
        # A multi-task head: each sample's softmax over its own task's rows.
        per = classes // tasks
        class_loss = sum(F.cross_entropy(logits[b:b + 1, (labels[b] // per) * per:(labels[b] // per + 1) * per],
                                         labels[b:b + 1] % per, reduction="sum") for b in range(B)) / B
    loss = class_loss + case["pos_weight"] * slot_loss / (slots * B)
    loss.backward()

    def grads(ts):
        return {k: (v.grad if v.grad is not None else torch.zeros_like(v)).tolist() for k, v in ts.items()}

    out = {"logits": logits.detach().flatten().tolist(), "loss": loss.item(),
           "grads": {"stem": grads(stem), "blocks": [grads(b) for b in blocks], "head": grads(head)}}
    if len(case["plans"]) == 1:
        out["slot_logits"] = [torch.cat(s).detach().flatten().tolist() for s in slot_logits if s]
    return out


def main():
    # One process for many cases: importing torch costs seconds.
    json.dump([run(case) for case in json.load(sys.stdin)["cases"]], sys.stdout)


if __name__ == "__main__":
    main()
