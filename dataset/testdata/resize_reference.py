"""PIL reference for dataset's resampling tests (resample_test.go).

Reads a JSON list of operations on stdin, prints a JSON list of results,
one per operation: {"w": W, "h": H, "mode": "RGB"|"L", "data": base64 of
Image.tobytes() (interleaved)}. Operations, each on image "file" converted
to "mode" first:
  {"op": "resize", "size": [w, h], "filter": "bilinear"|"bicubic"}
  {"op": "crop_resize", "box": [l, t, r, b], "size": [w, h], "filter": ...}
      img.crop(box).resize(size): torchvision's resized_crop
  {"op": "shorter", "short": S, "crop": [h, w], "filter": ...}
      torchvision Resize(S) then CenterCrop((h, w))
  {"op": "convert"}   just the conversion
"""
import base64
import json
import sys

from PIL import Image

FILTERS = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}


def resize_shorter(img, size, filt):
    # torchvision.transforms.functional._compute_resized_output_size
    w, h = img.size
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    return img.resize((new_w, new_h), filt)


def center_crop(img, ch, cw):
    # torchvision.transforms.functional.center_crop (crop inside the image)
    w, h = img.size
    top = int(round((h - ch) / 2.0))
    left = int(round((w - cw) / 2.0))
    return img.crop((left, top, left + cw, top + ch))


def main():
    out = []
    for op in json.load(sys.stdin):
        img = Image.open(op["file"]).convert(op["mode"])
        kind = op["op"]
        filt = FILTERS.get(op.get("filter", "bilinear"))
        if kind == "resize":
            img = img.resize(tuple(op["size"]), filt)
        elif kind == "crop_resize":
            img = img.crop(tuple(op["box"])).resize(tuple(op["size"]), filt)
        elif kind == "shorter":
            img = center_crop(resize_shorter(img, op["short"], filt), *op["crop"])
        elif kind != "convert":
            raise SystemExit("unknown op " + kind)
        out.append({"w": img.size[0], "h": img.size[1], "mode": img.mode,
                    "data": base64.b64encode(img.tobytes()).decode()})
    json.dump(out, sys.stdout)


main()
