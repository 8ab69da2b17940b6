#!/usr/bin/env python3
"""Independent check of frankenvit's weight merges, with numpy only.

Reads the safetensors files `frankenvit store export` writes (header length,
JSON header, little-endian float32 data; parsed here by hand, no safetensors
package), recomputes the whole merged model from the exported sources with
the methods as mergekit defines them, and compares every tensor.

usage: merge_check.py SPEC.json
SPEC: {"method": "linear|task_arithmetic|ties|slerp", "merged": FILE,
       "models": [FILE, ...], "base": FILE or null,
       "weights": [w, ...], "density": d, "lambda": l, "normalize": 0|1, "t": t}
Prints one line per tensor that differs and exits 1 if any does.
"""
import json
import struct
import sys

import numpy as np


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        if e["dtype"] != "F32":
            raise SystemExit(f"{path}: {name} is {e['dtype']}, not F32")
        a, b = e["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype="<f4").reshape(e["shape"])
    return out


def linear(xs, ws, normalize):
    acc = sum(w * x.astype(np.float64) for w, x in zip(ws, xs))
    if normalize:
        acc = acc / sum(ws)
    return acc


def task_arithmetic(base, xs, ws, lam, normalize):
    b = base.astype(np.float64)
    tv = sum(w * (x.astype(np.float64) - b) for w, x in zip(ws, xs))
    if normalize:
        tv = tv / sum(ws)
    return b + lam * tv


def magnitude_mask(tv32, density):
    """Keep the int(density * n) entries of largest magnitude."""
    flat = np.abs(tv32).reshape(-1)
    if density >= 1:
        return np.ones(flat.shape, dtype=bool).reshape(tv32.shape)
    k = int(density * flat.size)
    keep = np.zeros(flat.size, dtype=bool)
    if k > 0:
        keep[np.argsort(-flat, kind="stable")[:k]] = True
    return keep.reshape(tv32.shape)


def ties(base, xs, ws, density, lam, normalize):
    b = base.astype(np.float64)
    deltas = []
    for x in xs:
        tv32 = x - base  # the magnitudes are ranked in float32, as frankenvit computes them
        tv = x.astype(np.float64) - b
        deltas.append(np.where(magnitude_mask(tv32, density), tv, 0.0))
    wd = np.stack([w * d for w, d in zip(ws, deltas)])
    # sign election by the sum of the weighted task vectors; 0 counts as +
    majority = np.where(wd.sum(axis=0) >= 0, 1.0, -1.0)
    agree = np.sign(wd) == majority
    mixed = (wd * agree).sum(axis=0)
    if normalize:
        div = (np.array(ws).reshape((-1,) + (1,) * base.ndim) * agree).sum(axis=0)
        div = np.where(div == 0, 1.0, div)
        mixed = mixed / div
    return b + lam * mixed


def slerp(t, v0, v1, dot_threshold=0.9995, eps=1e-8):
    a, b = v0.astype(np.float64).reshape(-1), v1.astype(np.float64).reshape(-1)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    ua = a / na if na > eps else a
    ub = b / nb if nb > eps else b
    dot = float(np.sum(ua * ub))
    if abs(dot) > dot_threshold:
        res = (1 - t) * a + t * b
    else:
        theta0 = np.arccos(dot)
        s0 = np.sin(theta0 - theta0 * t) / np.sin(theta0)
        s1 = np.sin(theta0 * t) / np.sin(theta0)
        res = s0 * a + s1 * b
    return res.reshape(v0.shape)


def main():
    spec = json.load(open(sys.argv[1]))
    merged = read_safetensors(spec["merged"])
    models = [read_safetensors(p) for p in spec["models"]]
    base = read_safetensors(spec["base"]) if spec.get("base") else None
    method = spec["method"]
    ws = spec.get("weights") or [1.0] * len(models)
    bad = 0
    names = sorted(merged)
    for name in names:
        xs = [m[name] for m in models]
        if method == "linear":
            want = linear(xs, ws, spec.get("normalize", 1))
        elif method == "task_arithmetic":
            want = task_arithmetic(base[name], xs, ws, spec.get("lambda", 1.0), spec.get("normalize", 0))
        elif method == "ties":
            want = ties(base[name], xs, ws, spec.get("density", 1.0), spec.get("lambda", 1.0), spec.get("normalize", 1))
        elif method == "slerp":
            want = slerp(spec["t"], base[name], xs[0])
        else:
            raise SystemExit(f"unknown method {method}")
        got = merged[name].astype(np.float64)
        if got.shape != want.shape:
            print(f"{name}: shape {got.shape}, want {want.shape}")
            bad += 1
            continue
        err = np.max(np.abs(got - want)) if got.size else 0.0
        scale = max(1.0, float(np.max(np.abs(want)))) if want.size else 1.0
        if err > 2e-5 * scale:
            print(f"{name}: max |diff| {err:.3g}")
            bad += 1
    print(f"{method}: {len(names)} tensors, {bad} differ")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
