"""Writes small random ViTs as timm and Hugging Face publish them, and runs
an independent PyTorch forward pass on such folders.

Usage:
  pretrained_reference.py write SEED ROOT
      For each layout (timm, hf, hf-model, deit) writes the folder ROOT/LAYOUT
      (weights and config files in that layout), ROOT/LAYOUT.input.f32 (two
      normalised 3x224x224 images, float32 little-endian) and ROOT/LAYOUT.json
      ({"logits": [...]}: the output of forward() on that folder and input;
      for hf-model, a ViTModel without classifier, the final LayerNorm's
      class-token features).
  pretrained_reference.py forward LAYOUT DIR INPUT.f32
      Prints {"logits": [...]} of forward() on the folder DIR read as LAYOUT.

Debian has no python3-safetensors, timm or transformers: safetensors files
are written and read by hand (struct + json), and the forward pass is written
here from torch.nn.functional (conv2d, layer_norm, linear, softmax attention,
exact GELU) over each layout's own tensor names (Hugging Face's separate
query, key and value), in float64.
"""
import json
import os
import struct
import sys

import torch
import torch.nn.functional as F

DIM, DEPTH, HEADS, MLP, CLASSES, IMAGE, PATCH, CHANNELS = 64, 2, 2, 128, 10, 224, 16, 3
IMAGENET_MEAN, IMAGENET_STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}
DTYPE_NAMES = {v: k for k, v in DTYPES.items()}


def write_safetensors(path, tensors, dtype=torch.float32):
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        t = tensors[name].to(dtype).contiguous()
        data = t.view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": DTYPE_NAMES[dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    header.pop("__metadata__", None)
    data = raw[8 + n :]
    out = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        t = torch.frombuffer(bytearray(data[b:e]), dtype=DTYPES[info["dtype"]]) if e > b else torch.zeros(0)
        out[name] = t.reshape(info["shape"]).to(torch.float64)
    return out


def read_folder(d):
    index = os.path.join(d, "model.safetensors.index.json")
    if os.path.exists(index):
        out = {}
        for shard in sorted(set(json.load(open(index))["weight_map"].values())):
            out.update(read_safetensors(os.path.join(d, shard)))
        return out
    return read_safetensors(os.path.join(d, "model.safetensors"))


def timm_tensors(g):
    """Random weights by timm's names: std 0.02, random biases, LayerNorm weights about 1."""

    def w(*shape):
        return torch.randn(*shape, generator=g) * 0.02

    def ln():
        return 1 + 0.1 * torch.randn(DIM, generator=g), 0.05 * torch.randn(DIM, generator=g)

    tokens = (IMAGE // PATCH) ** 2 + 1
    ts = {"patch_embed.proj.weight": w(DIM, CHANNELS, PATCH, PATCH), "patch_embed.proj.bias": w(DIM),
          "cls_token": w(1, 1, DIM), "pos_embed": w(1, tokens, DIM), "head.weight": w(CLASSES, DIM), "head.bias": w(CLASSES)}
    ts["norm.weight"], ts["norm.bias"] = ln()
    for i in range(DEPTH):
        p = f"blocks.{i}."
        ts[p + "norm1.weight"], ts[p + "norm1.bias"] = ln()
        ts[p + "norm2.weight"], ts[p + "norm2.bias"] = ln()
        for name, shape in [("attn.qkv", (3 * DIM, DIM)), ("attn.proj", (DIM, DIM)), ("mlp.fc1", (MLP, DIM)), ("mlp.fc2", (DIM, MLP))]:
            ts[p + name + ".weight"], ts[p + name + ".bias"] = w(*shape), w(shape[0])
    return ts


HF_BLOCK = [("layernorm_before", "norm1"), ("attention.output.dense", "attn.proj"), ("layernorm_after", "norm2"),
            ("intermediate.dense", "mlp.fc1"), ("output.dense", "mlp.fc2")]


def to_hf(ts, prefix, classifier=True):
    out = {prefix + "embeddings.cls_token": ts["cls_token"], prefix + "embeddings.position_embeddings": ts["pos_embed"]}
    for s in ["weight", "bias"]:
        out[f"{prefix}embeddings.patch_embeddings.projection.{s}"] = ts[f"patch_embed.proj.{s}"]
        out[f"{prefix}layernorm.{s}"] = ts[f"norm.{s}"]
        if classifier:
            out[f"classifier.{s}"] = ts[f"head.{s}"]
        for i in range(DEPTH):
            hp, tp = f"{prefix}encoder.layer.{i}.", f"blocks.{i}."
            for hf, timm in HF_BLOCK:
                out[f"{hp}{hf}.{s}"] = ts[f"{tp}{timm}.{s}"]
            for k, part in enumerate(ts[f"{tp}attn.qkv.{s}"].chunk(3)):
                out[f"{hp}attention.attention.{['query', 'key', 'value'][k]}.{s}"] = part
    return out


def layer_norm(h, w, b, eps):
    return F.layer_norm(h, (h.shape[-1],), w, b, eps)


def forward(layout, d, x):
    """The reference forward on folder d read by its own names; x [B, C, H, W]."""
    ts = read_folder(d)
    cfg = json.load(open(os.path.join(d, "config.json")))
    if layout == "timm":
        eps, heads, pre = 1e-6, cfg["model_args"]["num_heads"], ""
        name = {"cls": "cls_token", "pos": "pos_embed", "pe": "patch_embed.proj", "norm": "norm", "head": "head"}
        blk = lambda i, n: f"blocks.{i}.{n}"  # noqa: E731
        block_names = {"ln1": "norm1", "proj": "attn.proj", "ln2": "norm2", "fc1": "mlp.fc1", "fc2": "mlp.fc2"}
    else:
        eps, heads = cfg["layer_norm_eps"], cfg["num_attention_heads"]
        pre = {"ViTModel": ""}.get(cfg["architectures"][0], cfg["model_type"] + ".")
        name = {"cls": pre + "embeddings.cls_token", "pos": pre + "embeddings.position_embeddings",
                "pe": pre + "embeddings.patch_embeddings.projection", "norm": pre + "layernorm", "head": "classifier"}
        blk = lambda i, n: f"{pre}encoder.layer.{i}.{n}"  # noqa: E731
        block_names = {"ln1": "layernorm_before", "proj": "attention.output.dense", "ln2": "layernorm_after",
                       "fc1": "intermediate.dense", "fc2": "output.dense"}
    W = lambda n: ts[n + ".weight"]  # noqa: E731
    Bv = lambda n: ts[n + ".bias"]  # noqa: E731
    P = W(name["pe"]).shape[-1]
    h = F.conv2d(x, W(name["pe"]), Bv(name["pe"]), stride=P).flatten(2).transpose(1, 2)
    B, _, D = h.shape
    h = torch.cat([ts[name["cls"]].expand(B, -1, -1), h], dim=1) + ts[name["pos"]]
    T, hd = h.shape[1], D // heads
    depth = 1 + max(int(k.split(".")[k.split(".").index("layer" if layout != "timm" else "blocks") + 1])
                    for k in ts if (".layer." if layout != "timm" else "blocks.") in k)
    for i in range(depth):
        b = {k: blk(i, v) for k, v in block_names.items()}
        y = layer_norm(h, W(b["ln1"]), Bv(b["ln1"]), eps)
        if layout == "timm":
            q, k, v = F.linear(y, W(blk(i, "attn.qkv")), Bv(blk(i, "attn.qkv"))).chunk(3, dim=-1)
        else:
            q, k, v = (F.linear(y, W(blk(i, "attention.attention." + n)), Bv(blk(i, "attention.attention." + n)))
                       for n in ["query", "key", "value"])
        q, k, v = (t.reshape(B, T, heads, hd).transpose(1, 2) for t in (q, k, v))
        a = torch.softmax(q @ k.transpose(-1, -2) / hd ** 0.5, dim=-1)
        o = (a @ v).transpose(1, 2).reshape(B, T, D)
        h = h + F.linear(o, W(b["proj"]), Bv(b["proj"]))
        y = layer_norm(h, W(b["ln2"]), Bv(b["ln2"]), eps)
        h = h + F.linear(F.gelu(F.linear(y, W(b["fc1"]), Bv(b["fc1"]))), W(b["fc2"]), Bv(b["fc2"]))
    feats = layer_norm(h[:, 0], W(name["norm"]), Bv(name["norm"]), eps)
    if name["head"] + ".weight" not in ts:
        return feats
    return F.linear(feats, W(name["head"]), Bv(name["head"]))


def hf_config(arch, model_type, labels):
    return {"architectures": [arch], "model_type": model_type, "hidden_size": DIM, "num_hidden_layers": DEPTH,
            "num_attention_heads": HEADS, "intermediate_size": MLP, "hidden_act": "gelu", "hidden_dropout_prob": 0.0,
            "attention_probs_dropout_prob": 0.0, "initializer_range": 0.02, "layer_norm_eps": 1e-12,
            "image_size": IMAGE, "patch_size": PATCH, "num_channels": CHANNELS, "qkv_bias": True, "encoder_stride": PATCH,
            "id2label": {str(i): l for i, l in enumerate(labels)}, "label2id": {l: i for i, l in enumerate(labels)},
            "torch_dtype": "float32", "transformers_version": "4.40.0"}


def write_layout(layout, g, d):
    os.makedirs(d)
    ts = timm_tensors(g)
    labels = [f"class_{i}" for i in range(CLASSES)]
    dump = lambda name, v: json.dump(v, open(os.path.join(d, name), "w"), indent=2)  # noqa: E731
    if layout == "timm":
        write_safetensors(os.path.join(d, "model.safetensors"), ts)
        dump("config.json", {
            "architecture": "vit_tiny_patch16_224", "num_classes": CLASSES, "num_features": DIM, "global_pool": "token",
            "model_args": {"embed_dim": DIM, "depth": DEPTH, "num_heads": HEADS, "mlp_ratio": MLP / DIM, "num_classes": CLASSES},
            "pretrained_cfg": {"tag": "random", "input_size": [3, IMAGE, IMAGE], "fixed_input_size": True, "interpolation": "bicubic",
                               "crop_pct": 0.9, "crop_mode": "center", "mean": IMAGENET_MEAN, "std": IMAGENET_STD,
                               "num_classes": CLASSES, "pool_size": None, "first_conv": "patch_embed.proj", "classifier": "head",
                               "label_names": labels}})
        return
    processor = {"do_normalize": True, "do_rescale": True, "rescale_factor": 1 / 255, "do_resize": True,
                 "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5], "image_processor_type": "ViTImageProcessor",
                 "resample": 2, "size": {"height": IMAGE, "width": IMAGE}}
    if layout == "hf":  # ViTForImageClassification in two shards with an index, float32
        hf = to_hf(ts, "vit.")
        names = sorted(hf)
        shards = {"model-00001-of-00002.safetensors": names[: len(names) // 2], "model-00002-of-00002.safetensors": names[len(names) // 2 :]}
        for shard, ns in shards.items():
            write_safetensors(os.path.join(d, shard), {n: hf[n] for n in ns})
        dump("model.safetensors.index.json", {"metadata": {}, "weight_map": {n: s for s, ns in shards.items() for n in ns}})
        dump("config.json", hf_config("ViTForImageClassification", "vit", labels))
    elif layout == "hf-model":  # ViTModel with its pooler, bfloat16
        hf = to_hf(ts, "", classifier=False)
        hf["pooler.dense.weight"], hf["pooler.dense.bias"] = ts["blocks.0.attn.proj.weight"], ts["blocks.0.attn.proj.bias"]
        write_safetensors(os.path.join(d, "model.safetensors"), hf, torch.bfloat16)
        dump("config.json", hf_config("ViTModel", "vit", ["LABEL_0", "LABEL_1"]))
    elif layout == "deit":  # DeiT names and processor (resize 256, centre crop 224), float16
        write_safetensors(os.path.join(d, "model.safetensors"), to_hf(ts, "deit."), torch.float16)
        dump("config.json", hf_config("DeiTForImageClassification", "deit", labels))
        processor.update({"image_processor_type": "DeiTImageProcessor", "resample": 3, "size": {"height": 256, "width": 256},
                          "do_center_crop": True, "crop_size": {"height": IMAGE, "width": IMAGE},
                          "image_mean": IMAGENET_MEAN, "image_std": IMAGENET_STD})
    dump("preprocessor_config.json", processor)


def main():
    torch.set_num_threads(1)
    if sys.argv[1] == "write":
        g = torch.Generator().manual_seed(int(sys.argv[2]))
        root = sys.argv[3]
        for layout in ["timm", "hf", "hf-model", "deit"]:
            d = os.path.join(root, layout)
            write_layout(layout, g, d)
            x = torch.randn(2, CHANNELS, IMAGE, IMAGE, generator=g)
            open(d + ".input.f32", "wb").write(x.numpy().astype("<f4").tobytes())
            logits = forward(layout, d, x.to(torch.float64))
            json.dump({"logits": logits.flatten().tolist()}, open(d + ".json", "w"))
    elif sys.argv[1] == "forward":
        layout, d, inp = sys.argv[2:5]
        x = torch.frombuffer(bytearray(open(inp, "rb").read()), dtype=torch.float32)
        cfg = json.load(open(os.path.join(d, "config.json")))
        c = cfg.get("num_channels", 3)
        size = cfg.get("image_size", IMAGE)
        x = x.reshape(-1, c, size, size).to(torch.float64)
        json.dump({"logits": forward(layout, d, x).flatten().tolist()}, sys.stdout)
    else:
        sys.exit("usage: pretrained_reference.py write SEED ROOT | forward LAYOUT DIR INPUT.f32")


if __name__ == "__main__":
    main()
