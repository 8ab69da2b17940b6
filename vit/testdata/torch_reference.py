"""Independent PyTorch reference for frankenvit's ViT forward pass.

Reads {"cases": [case, ...]} from stdin, each case {"config": {...}, "stem": {name: [values]},
"blocks": [{name: [values]}, ...] in plan order, "head": {...}, "images":
[values] (normalised, [B, C, H, W])}. Prints a list with
{"logits": [...], "slot_logits": [[...] per slot]} per case, computed in float64 with torch.nn.functional,
so nothing is shared with the Go code but the weights.
"""
import json
import sys

import torch
import torch.nn.functional as F

EPS = 1e-6


def t(values, *shape):
    return torch.tensor(values, dtype=torch.float64).reshape(*shape)


def forward(case):
    """Returns (logits [B, classes], per-slot-head logits) as nested lists."""
    c = case["config"]
    C, H, W, P = c["channels"], c["image_height"], c["image_width"], c["patch"]
    D, heads, M, classes = c["dim"], c["heads"], c["mlp"], c["classes"]
    stem, head = case["stem"], case["head"]
    x = t(case["images"], -1, C, H, W)
    B = x.shape[0]

    tok = F.conv2d(x, t(stem["patch_embed.proj.weight"], D, C, P, P), t(stem["patch_embed.proj.bias"], D), stride=P)
    tok = tok.flatten(2).transpose(1, 2)  # [B, N, D]
    cls = t(stem["cls_token"], 1, 1, D).expand(B, -1, -1)
    h = torch.cat([cls, tok], dim=1) + t(stem["pos_embed"], 1, -1, D)
    T = h.shape[1]
    hd = D // heads

    slot_logits = []
    for slot, blk in enumerate(case["blocks"]):
        if "pos_proj.fc.weight" in blk:
            E = t(stem["layer_pos_embed"], c["depth"], -1)
            e = E[slot].expand(B, T, -1)
            cat = torch.cat([h, e], dim=-1)
            Wd = cat.shape[-1]
            z = F.layer_norm(cat, (Wd,), t(blk["pos_proj.norm.weight"], Wd), t(blk["pos_proj.norm.bias"], Wd), EPS)
            h = h + F.gelu(F.linear(z, t(blk["pos_proj.fc.weight"], D, Wd), t(blk["pos_proj.fc.bias"], D)))
        y = F.layer_norm(h, (D,), t(blk["norm1.weight"], D), t(blk["norm1.bias"], D), EPS)
        qkv = F.linear(y, t(blk["attn.qkv.weight"], 3 * D, D), t(blk["attn.qkv.bias"], 3 * D))
        q, k, v = qkv.reshape(B, T, 3, heads, hd).permute(2, 0, 3, 1, 4)
        att = torch.softmax(q @ k.transpose(-2, -1) / hd ** 0.5, dim=-1) @ v
        att = att.transpose(1, 2).reshape(B, T, D)
        h = h + F.linear(att, t(blk["attn.proj.weight"], D, D), t(blk["attn.proj.bias"], D))
        y = F.layer_norm(h, (D,), t(blk["norm2.weight"], D), t(blk["norm2.bias"], D), EPS)
        y = F.gelu(F.linear(y, t(blk["mlp.fc1.weight"], M, D), t(blk["mlp.fc1.bias"], M)))
        h = h + F.linear(y, t(blk["mlp.fc2.weight"], D, M), t(blk["mlp.fc2.bias"], D))
        if "pos_head.fc.weight" in blk:
            L = c["depth"]
            m = F.layer_norm(h.mean(dim=1), (D,), t(blk["pos_head.norm.weight"], D), t(blk["pos_head.norm.bias"], D), EPS)
            slot_logits.append(F.linear(m, t(blk["pos_head.fc.weight"], L, D), t(blk["pos_head.fc.bias"], L)).flatten().tolist())

    y = F.layer_norm(h[:, 0], (D,), t(head["norm.weight"], D), t(head["norm.bias"], D), EPS)
    logits = F.linear(y, t(head["head.weight"], classes, D), t(head["head.bias"], classes))
    return logits.flatten().tolist(), slot_logits


def main():
    # One process for many cases: importing torch costs seconds.
    results = []
    for case in json.load(sys.stdin)["cases"]:
        logits, slot_logits = forward(case)
        results.append({"logits": logits, "slot_logits": slot_logits})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
