#!/usr/bin/python3
"""Independent numpy reference for frankenvit's task-vector merge methods.

Recomputes linear, task_arithmetic, ties, dare_linear, dare_ties,
breadcrumbs, breadcrumbs_ties, della, della_linear and sce from the
definitions in mergekit (mergekit/merge_methods/generalized_task_arithmetic.py,
registry.py, linear.py, sce.py and mergekit/sparsify.py), vectorised in numpy,
in float64. The random methods (dare_*, della*) take the keep masks the Go
code drew; DELLA's keep probabilities are recomputed separately ("della_probs").

stdin: {"cases": [{"method", "shape", "base", "data", "per", "global", "masks"}]}
stdout: {"outputs": [[...], ...]}
"""
import json
import sys

import numpy as np

# method: (consensus, sparsifier, default normalize, default rescale)
GTA = {
    "task_arithmetic": (None, None, False, False),
    "ties": ("sum", "magnitude", True, False),
    "dare_ties": ("sum", "random", False, True),
    "dare_linear": (None, "random", False, True),
    "breadcrumbs": (None, "outliers", False, False),
    "breadcrumbs_ties": ("sum", "outliers", False, False),
    "della": ("sum", "della", True, True),
    "della_linear": (None, "della", False, True),
}
PER_DEFAULTS = {"density": 1.0, "gamma": 0.01, "epsilon": 0.15}


def per(case, i, name, default):
    p = case["per"][i] if case.get("per") else {}
    if name in p:
        return p[name]
    return case.get("global", {}).get(name, default)


def glob(case, name, default):
    return case.get("global", {}).get(name, default)


def rescale_l1(delta, mask, rescale):
    masked = delta * mask
    if not rescale:
        return masked
    before, after = np.abs(delta).sum(), np.abs(masked).sum()
    if before < 1e-7 or after < 1e-7:
        return masked
    return masked * (before / after)


def sparsify(kind, delta, density, gamma, mask, rescale):
    if density >= 1:
        return delta
    n = delta.size
    flat = np.abs(delta).ravel()
    keep = np.zeros(n)
    if kind == "magnitude":
        k = int(density * n)
        keep[np.argsort(-flat, kind="stable")[:k]] = 1
    elif kind == "outliers":
        target = int(density * n)
        top = int(gamma * n)
        bot = max(n - target - top, 0)
        top = n - target - bot  # all that is not kept nor dropped at the bottom
        order = np.argsort(flat, kind="stable")
        keep[order[bot : n - top]] = 1
    elif kind in ("random", "della"):
        keep = np.asarray(mask, dtype=float)
        if kind == "della" and density <= 0:
            return np.zeros_like(delta)
    return rescale_l1(delta, keep.reshape(delta.shape), rescale)


def gta(case):
    consensus, kind, dnorm, dresc = GTA[case["method"]]
    base = np.array(case["base"], dtype=np.float64).reshape(case["shape"])
    xs = [np.array(d, dtype=np.float64).reshape(case["shape"]) for d in case["data"]]
    rescale = bool(glob(case, "rescale", dresc))
    normalize = bool(glob(case, "normalize", dnorm))
    lam = glob(case, "lambda", 1.0)
    deltas, ws = [], []
    for i, x in enumerate(xs):
        d = x - base
        if kind is not None:
            m = case["masks"][i] if case.get("masks") else None
            d = sparsify(kind, d, per(case, i, "density", 1.0), per(case, i, "gamma", 0.01), m, rescale)
        deltas.append(d)
        ws.append(per(case, i, "weight", None))
    D = np.stack(deltas)
    W = np.array(ws).reshape((-1,) + (1,) * base.ndim)
    WD = D * W
    if consensus:
        elected = np.where(WD.sum(axis=0) >= 0, 1.0, -1.0)
        agree = np.sign(WD) == elected
        mixed = (WD * agree).sum(axis=0)
        div = (W * agree).sum(axis=0)
        div[div == 0] = 1
    else:
        mixed = WD.sum(axis=0)
        div = W.sum()
        if abs(div) < 1e-8:
            div = 1
    if normalize:
        mixed = mixed / div
    return base + lam * mixed


def linear(case):
    X = np.array(case["data"], dtype=np.float64)
    W = np.array([per(case, i, "weight", None) for i in range(len(X))])[:, None]
    res = (X * W).sum(axis=0)
    if glob(case, "normalize", 1):
        res = res / W.sum()
    return res


def sce(case):
    base = np.array(case["base"], dtype=np.float64)
    TV = np.array(case["data"], dtype=np.float64) - base
    topk = glob(case, "select_topk", 1.0)
    if topk < 1:
        sel = np.zeros(base.size)
        if topk > 0:
            var = TV.var(axis=0)
            k = int(np.count_nonzero(var) * topk)
            sel[np.argsort(-np.abs(var), kind="stable")[:k]] = 1
        TV = TV * sel
    elected = np.where(TV.sum(axis=0) >= 0, 1.0, -1.0)
    agree = np.sign(TV) == elected
    w = (TV**2).mean(axis=1)
    w = np.full_like(w, 1 / len(w)) if abs(w.sum()) < 1e-6 else w / w.sum()
    ew = w[:, None] * agree
    return base + (TV * ew).sum(axis=0) / np.maximum(ew.sum(axis=0), 1e-6)


def della_probs(case):
    x = np.abs(np.array(case["base"], dtype=np.float64)).reshape(case["shape"])
    d, e = case["global"]["density"], case["global"]["epsilon"]
    if x.ndim < 2:
        x = x[None]
    ranks = np.argsort(np.argsort(x, axis=1, kind="stable"), axis=1, kind="stable") + 1.0
    lo, hi = ranks.min(axis=1, keepdims=True), ranks.max(axis=1, keepdims=True)
    return (d - e) + (ranks - lo) / (hi - lo) * 2 * e


def run(case):
    m = case["method"]
    if m == "linear":
        out = linear(case)
    elif m == "sce":
        out = sce(case)
    elif m == "della_probs":
        out = della_probs(case)
    else:
        out = gta(case)
    return [float(v) for v in np.asarray(out).ravel()]


if __name__ == "__main__":
    doc = json.load(sys.stdin)
    json.dump({"outputs": [run(c) for c in doc["cases"]]}, sys.stdout)
