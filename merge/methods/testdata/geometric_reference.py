#!/usr/bin/python3
"""Independent numpy reference for frankenvit's geometric merge methods.

Recomputes slerp, nuslerp, multislerp, karcher, model_stock and nearswap as
mergekit defines them (github.com/arcee-ai/mergekit,
mergekit/merge_methods/{slerp,nuslerp,multislerp,karcher,model_stock,nearswap}.py),
in float64 numpy, written with whole-array operations (reshape / transpose /
boolean masks) rather than the Go code's index arithmetic.

Usage: geometric_reference.py INPUT.json
INPUT: {"cases": [{"name", "method", "shape", "base" (list or null),
         "data" (list of lists), "per" (list of dicts), "global" (dict)}]}
Prints {name: [values...]} as JSON on stdout.
"""
import json
import sys

import numpy as np

DEFAULTS = {
    "nuslerp_flatten": 1.0,
    "nuslerp_row_wise": 0.0,
    "normalize_weights": 1.0,
    "eps": 1e-8,
    "max_iter": 10,
    "tol": 1e-5,
    "filter_wise": 0.0,
}


def gparam(case, name):
    g = case.get("global") or {}
    return g[name] if name in g else DEFAULTS[name]


def mparam(case, i, name):
    per = case.get("per") or []
    if i < len(per) and per[i] and name in per[i]:
        return per[i][name]
    return gparam(case, name)


def slerp(case, base, data):
    t = gparam(case, "t")
    v0, v1 = base.reshape(-1), data[0].reshape(-1)

    def normalize(v, eps=1e-8):
        n = np.linalg.norm(v)
        return v / n if n > eps else v

    dot = np.sum(normalize(v0) * normalize(v1))
    if abs(dot) > 0.9995:
        return (1 - t) * v0 + t * v1
    th = np.arccos(dot)
    return (np.sin(th - th * t) * v0 + np.sin(th * t) * v1) / np.sin(th)


def nuslerp(case, base, data, shape):
    w = [mparam(case, i, "weight") for i in range(2)]
    t = 0.5 if abs(sum(w)) < 1e-6 else w[1] / sum(w)
    v0, v1 = data[0].reshape(shape), data[1].reshape(shape)
    if base is not None:
        b = base.reshape(shape)
        v0, v1 = v0 - b, v1 - b
    flatten = bool(gparam(case, "nuslerp_flatten"))
    row_wise = bool(gparam(case, "nuslerp_row_wise"))
    if flatten:
        a, c = v0.reshape(1, -1), v1.reshape(1, -1)
    elif row_wise:
        a, c = np.swapaxes(v0, 0, -1), np.swapaxes(v1, 0, -1)
    else:
        a, c = v0, v1
    moved_shape = a.shape
    a = a.reshape(-1, a.shape[-1])
    c = c.reshape(-1, c.shape[-1])
    au = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-7)
    cu = c / np.maximum(np.linalg.norm(c, axis=-1, keepdims=True), 1e-7)
    cos = np.clip(np.sum(au * cu, axis=-1, keepdims=True), -1, 1)
    th = np.arccos(cos)
    s = np.sin(th)
    col = (np.abs(s) < 1e-8)[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        res = (np.sin((1 - t) * th) * a + np.sin(t * th) * c) / s
    res[col] = (1 - t) * a[col] + t * c[col]
    res = res.reshape(moved_shape)
    if not flatten and row_wise:
        res = np.swapaxes(res, 0, -1)
    res = res.reshape(-1)
    if base is not None:
        res = res + base.reshape(-1)
    return res


def multislerp(case, base, data):
    k = len(data)
    if k == 1:
        return data[0]
    eps = gparam(case, "eps")
    x = np.stack(data)
    if base is not None:
        x = x - base[None, :]
    w = np.array([mparam(case, i, "weight") for i in range(k)], dtype=np.float64)
    if gparam(case, "normalize_weights"):
        w = w / w.sum()
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    u = x / (norms + eps)
    mean = (u * w[:, None]).sum(0)
    mn = np.linalg.norm(mean)
    if mn < eps:
        if k != 2:
            raise ValueError("zero weighted mean")
        res = x[0] * w[0] + x[1] * w[1]
        return res + base if base is not None else res
    mean = mean / mn
    tan = u - (u @ mean)[:, None] * mean[None, :]
    tr = (tan * w[:, None]).sum(0)
    tn = np.linalg.norm(tr) + eps
    res = (mean * np.cos(tn) + tr * (np.sin(tn) / tn)) * float(norms[:, 0] @ w)
    return res + base if base is not None else res


def karcher(case, base, data):
    tensors = ([base] if base is not None else []) + list(data)
    if len(tensors) == 1:
        return tensors[0]
    max_iter = int(gparam(case, "max_iter"))
    tol = gparam(case, "tol")
    alphas = np.full(len(tensors), 1.0 / len(tensors))
    X = np.stack(tensors)
    norms = np.linalg.norm(X, axis=1)
    valid = norms > tol
    if not valid.any():
        return np.zeros_like(tensors[0])
    U = X[valid] / norms[valid][:, None]
    a = alphas[valid] / alphas[valid].sum()
    u = a @ U
    nu = np.linalg.norm(u)
    u = U[0].copy() if nu < tol else u / nu
    for _ in range(max_iter):
        dots = np.clip(U @ u, -1, 1)
        th = np.arccos(dots)
        keep = th >= tol
        T = np.zeros_like(u)
        if keep.any():
            f = a[keep] * th[keep] / np.sin(th[keep])
            T = f @ (U[keep] - dots[keep][:, None] * u[None, :])
        nT = np.linalg.norm(T)
        if nT < tol:
            break
        u = np.cos(nT) * u + np.sin(nT) * (T / nT)
        n = np.linalg.norm(u)
        if n > tol:
            u = u / n
    return float(alphas @ norms) * u


def model_stock(case, base, data, shape):
    if gparam(case, "filter_wise"):
        w0 = base.reshape(shape)
        if w0.ndim <= 1:
            w0 = w0.reshape(1, -1)
        ws = [d.reshape(w0.shape) for d in data]
    else:
        w0 = base.reshape(-1)
        ws = [d.reshape(-1) for d in data]
    off = [w - w0 for w in ws]
    cs = []
    for i in range(len(off)):
        for j in range(i + 1, len(off)):
            npd = np.linalg.norm(off[i], axis=-1) * np.linalg.norm(off[j], axis=-1)
            cs.append(np.clip((off[i] * off[j]).sum(-1) / np.maximum(npd, 1e-6), -1, 1))
    cos = np.mean(np.stack(cs), axis=0)[..., None]
    n = len(ws)
    t = n * cos / (1 + (n - 1) * cos)
    return (t * (sum(ws) / n) + (1 - t) * w0).reshape(-1)


def nearswap(case, base, data):
    t = gparam(case, "t")
    a, b = base, data[0]
    w = np.clip(t / np.maximum(np.abs(a - b), 1e-6), 0, 1)
    return w * b + (1 - w) * a


def main():
    with open(sys.argv[1]) as f:
        cases = json.load(f)["cases"]
    out = {}
    for c in cases:
        base = None if c.get("base") is None else np.array(c["base"], dtype=np.float64)
        data = [np.array(d, dtype=np.float64) for d in c["data"]]
        shape = tuple(c["shape"])
        m = c["method"]
        if m == "slerp":
            r = slerp(c, base, data)
        elif m == "nuslerp":
            r = nuslerp(c, base, data, shape)
        elif m == "multislerp":
            r = multislerp(c, base, data)
        elif m == "karcher":
            r = karcher(c, base, data)
        elif m == "model_stock":
            r = model_stock(c, base, data, shape)
        elif m == "nearswap":
            r = nearswap(c, base, data)
        else:
            raise SystemExit("unknown method " + m)
        out[c["name"]] = [float(v) for v in np.asarray(r).reshape(-1)]
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
