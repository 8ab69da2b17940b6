"""PyTorch peer of `frankenvit bench speed`: the same ViT, the same training step, timed the same way.

The model is written with torch.nn the way timm's VisionTransformer is (conv patch embedding, class token,
learned position embedding, pre-LN blocks with a fused qkv Linear, exact GELU, LayerNorm eps 1e-6, the
classifier on the class token after the final norm). One training step is what frankenvit's is: forward in a
random block order (LayerShuffle, one order per batch), cross-entropy, backward, gradient-norm clipping to 1,
AdamW (lr 1e-3, weight decay 0.05), zeroing the gradients. Inference is sequential, under torch.inference_mode,
in batches of --eval-batch, with the argmax taken as frankenvit's evaluator does.

Run it with Debian's interpreter, /usr/bin/python3 (python3-torch). The BLAS library is chosen when torch is
loaded: LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread selects OpenBLAS,
LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/blas the reference BLAS (libblas3); the script reports the
libblas.so.3 it actually mapped. Set OMP_NUM_THREADS/OPENBLAS_NUM_THREADS together with --threads (the Go
side does), because torch.set_num_threads does not reach OpenBLAS's own thread pool, and OMP_WAIT_POLICY=PASSIVE
(the Go side does unless a policy is set): otherwise torch's spinning OpenMP threads fight OpenBLAS's threads for
the cores and 2 threads run slower than 1.

A configuration can be slow (the reference BLAS runs the larger model at about 1 image/s), so --budget caps
each timed phase: the rates are then measured over the steps and images that did run, and the output says how
many that was (train_steps, eval_images).

Prints one JSON object on stdout (see main).
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class PatchEmbed(nn.Module):
    def __init__(self, channels, patch, dim):
        super().__init__()
        self.proj = nn.Conv2d(channels, dim, kernel_size=patch, stride=patch)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)  # [B, N, D]


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, T, D = x.shape
        q, k, v = self.qkv(x).reshape(B, T, 3, self.heads, D // self.heads).permute(2, 0, 3, 1, 4).unbind(0)
        attn = (q @ k.transpose(-2, -1)) * self.scale
        x = attn.softmax(dim=-1) @ v
        return self.proj(x.transpose(1, 2).reshape(B, T, D))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, heads, mlp):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, mlp)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class VisionTransformer(nn.Module):
    def __init__(self, image, channels, patch, dim, heads, mlp, depth, classes):
        super().__init__()
        n = (image // patch) ** 2
        self.patch_embed = PatchEmbed(channels, patch, dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.randn(1, n + 1, dim) * 0.02)
        self.blocks = nn.ModuleList([Block(dim, heads, mlp) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)

    def forward(self, x, order=None):
        x = self.patch_embed(x)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        for i in order if order is not None else range(len(self.blocks)):
            x = self.blocks[i](x)
        return self.head(self.norm(x[:, 0]))


def rss_mb(field):
    """A VmHWM/VmRSS line of /proc/self/status in MB (0 where /proc is missing)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def loaded_blas():
    """The real path of the libblas.so.3 this process mapped (torch resolves sgemm_ through it)."""
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                if "libblas.so" in os.path.basename(path):
                    return os.path.realpath(path)
    except OSError:
        pass
    return ""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--image", type=int, default=28)
    ap.add_argument("--channels", type=int, default=1)
    ap.add_argument("--patch", type=int, default=7)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--mlp", type=int, default=128)
    ap.add_argument("--depth", type=int, default=6)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=20, help="timed training steps")
    ap.add_argument("--warmup", type=int, default=3, help="untimed training steps first")
    ap.add_argument("--eval-images", type=int, default=10000)
    ap.add_argument("--eval-batch", type=int, default=256)
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: leave torch's default)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--budget", type=float, default=0,
                    help="seconds per timed phase (0: none): training stops after the step that crosses it, evaluation "
                         "after the batch that does (at least one of each); warm-up stops after a quarter of it")
    a = ap.parse_args()

    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rss_base = rss_mb("VmRSS")
    model = VisionTransformer(a.image, a.channels, a.patch, a.dim, a.heads, a.mlp, a.depth, a.classes)
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "pos_embed" not in n and "cls_token" not in n]
    rest = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "pos_embed" not in n and "cls_token" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": rest, "weight_decay": 0.0}], lr=1e-3)

    # Synthetic data: two training batches used in turn, and the evaluation images.
    xs = [torch.randn(a.batch, a.channels, a.image, a.image) for _ in range(2)]
    ys = [torch.randint(0, a.classes, (a.batch,)) for _ in range(2)]
    gen = torch.Generator().manual_seed(a.seed)

    def train_step(i):
        order = torch.randperm(a.depth, generator=gen).tolist()
        loss = F.cross_entropy(model(xs[i % 2], order), ys[i % 2])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss.item()

    budget = a.budget if a.budget > 0 else math.inf
    model.train()
    t0 = time.perf_counter()
    warm = 0
    while warm < a.warmup and (warm == 0 or time.perf_counter() - t0 < budget / 4):
        train_step(warm)
        warm += 1
    t0 = time.perf_counter()
    loss, steps = float("nan"), 0
    while steps < a.steps and (steps == 0 or time.perf_counter() - t0 < budget):
        loss = train_step(steps)
        steps += 1
    train_s = time.perf_counter() - t0
    rss_train = rss_mb("VmHWM")

    model.eval()
    ex = torch.randn(a.eval_images, a.channels, a.image, a.image)
    ey = torch.randint(0, a.classes, (a.eval_images,))
    with torch.inference_mode():
        model(ex[: min(a.eval_batch, 32)])  # warm-up (threads, lazy initialisation)
        t0 = time.perf_counter()
        correct, done = 0, 0
        while done < a.eval_images and (done == 0 or time.perf_counter() - t0 < budget):
            xb, yb = ex[done : done + a.eval_batch], ey[done : done + a.eval_batch]
            correct += int((model(xb).argmax(dim=1) == yb).sum())
            done += xb.shape[0]
        eval_s = time.perf_counter() - t0

    out = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "blas_library": loaded_blas(),
        "warmup_steps": warm,
        "train_steps": steps,
        "train_images": steps * a.batch,
        "train_seconds": train_s,
        "train_images_per_sec": steps * a.batch / train_s if train_s > 0 else 0.0,
        "final_loss": loss if math.isfinite(loss) else None,
        "eval_images": done,
        "eval_seconds": eval_s,
        "infer_images_per_sec": done / eval_s if eval_s > 0 else 0.0,
        "eval_accuracy": correct / max(done, 1),
        "rss_base_mb": rss_base,
        "rss_train_mb": rss_train,
        "rss_peak_mb": rss_mb("VmHWM"),
        "params": sum(p.numel() for p in model.parameters()),
        "env": {k: os.environ.get(k, "") for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE",
                                                     "OPENBLAS_L2_SIZE", "OMP_WAIT_POLICY", "LD_LIBRARY_PATH")},
    }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
