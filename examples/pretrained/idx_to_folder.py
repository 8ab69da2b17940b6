#!/usr/bin/python3
"""Write an IDX data set (MNIST, Fashion-MNIST) as a folder of full-size JPEGs.

    /usr/bin/python3 idx_to_folder.py IDX_DIR OUT_DIR [--train N] [--test N] [--size 224] [--seed 1]

OUT_DIR/train/CLASS/NNNNN.jpg and OUT_DIR/test/CLASS/NNNNN.jpg: the first N
images of each split, upscaled bicubically to SIZE x SIZE and coloured (the
digit in a random colour on a random dark background, seeded), so the folder
is what a user's RGB photographs would be: full-size three-channel JPEGs
that the model must resize and crop. Needs python3-pil.
"""
import argparse
import gzip
import os
import random
import struct

from PIL import Image


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    dims = magic & 0xFF
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return shape, data[4 + 4 * dims:]


def find(dir_, stem):
    for name in (stem, stem + ".gz"):
        if os.path.exists(os.path.join(dir_, name)):
            return os.path.join(dir_, name)
    raise SystemExit(f"{dir_}: no {stem}[.gz]")


def write_split(idx_dir, out_dir, prefix, split, n, size, rng):
    (count, h, w), pixels = read_idx(find(idx_dir, f"{prefix}-images-idx3-ubyte"))
    _, labels = read_idx(find(idx_dir, f"{prefix}-labels-idx1-ubyte"))
    n = count if n <= 0 else min(n, count)
    for c in set(labels[:n]):
        os.makedirs(os.path.join(out_dir, split, str(c)), exist_ok=True)
    for i in range(n):
        grey = Image.frombytes("L", (w, h), pixels[i * h * w:(i + 1) * h * w]).resize((size, size), Image.BICUBIC)
        fg = tuple(rng.randint(150, 255) for _ in range(3))
        bg = tuple(rng.randint(0, 60) for _ in range(3))
        rgb = Image.composite(Image.new("RGB", grey.size, fg), Image.new("RGB", grey.size, bg), grey)
        rgb.save(os.path.join(out_dir, split, str(labels[i]), f"{i:05d}.jpg"), quality=90)
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("idx_dir")
    ap.add_argument("out_dir")
    ap.add_argument("--train", type=int, default=0, help="training images (0 = all)")
    ap.add_argument("--test", type=int, default=0, help="test images (0 = all)")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    tr = write_split(a.idx_dir, a.out_dir, "train", "train", a.train, a.size, rng)
    te = write_split(a.idx_dir, a.out_dir, "t10k", "test", a.test, a.size, rng)
    print(f"wrote {tr} training and {te} test images of {a.size}x{a.size} to {a.out_dir}")


if __name__ == "__main__":
    main()
