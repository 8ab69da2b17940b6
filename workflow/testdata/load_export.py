"""Loads a frankenvit export the way a PyTorch user would and runs it.

Usage: load_export.py FILE.safetensors < images.json
Parses the safetensors file by hand (Debian has no python3-safetensors),
groups the timm names blocks.{i}.* into plan order, and runs the independent
reference forward pass of vit/testdata/torch_reference.py, so the test proves
the exported names, shapes and layout are what timm's VisionTransformer uses.
"""
import json
import os
import re
import struct
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "vit", "testdata"))
from torch_reference import run  # noqa: E402


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    data = raw[8 + n :]
    tensors = {}
    for name, info in header.items():
        assert info["dtype"] == "F32", name
        b, e = info["data_offsets"]
        t = torch.frombuffer(bytearray(data[b:e]), dtype=torch.float32).reshape(info["shape"])
        tensors[name] = t
    return tensors, meta


def main():
    tensors, meta = read_safetensors(sys.argv[1])
    config = json.loads(meta["config"])
    blocks = {}
    stem, head = {}, {}
    for name, t in tensors.items():
        m = re.match(r"blocks\.(\d+)\.(.*)", name)
        values = t.flatten().tolist()
        if m:
            blocks.setdefault(int(m.group(1)), {})[m.group(2)] = values
        elif name.startswith(("norm.", "head.")):
            head[name] = values
        else:
            stem[name] = values
    images = json.load(sys.stdin)
    n = len(images) // (config["channels"] * config["image_height"] * config["image_width"])
    # The file's blocks are the plan, in order; the reference also computes
    # a training loss, for which the labels are placeholders.
    case = {"config": config, "stem": stem, "head": head, "images": images,
            "blocks": [blocks[i] for i in range(len(blocks))], "plans": [list(range(len(blocks)))],
            "labels": [0] * n, "pos_weight": 0.0}
    json.dump({"logits": run(case)["logits"], "metadata": meta}, sys.stdout)


if __name__ == "__main__":
    main()
