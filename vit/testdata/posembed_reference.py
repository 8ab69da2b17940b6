"""Reference for vit.ResamplePosEmbed: torch's bicubic interpolation of the
grid part of a position embedding, prefix tokens kept (what timm's
resample_abs_pos_embed does, here without antialiasing).

Reads {"cases": [{"pos", "prefix", "old": [h, w], "new": [h, w], "dim"}]} on
stdin, writes one flat list of the resampled embedding per case."""
import json
import sys

import torch
import torch.nn.functional as F

cases = json.load(sys.stdin)["cases"]
out = []
for c in cases:
    (oh, ow), (nh, nw), dim, prefix = c["old"], c["new"], c["dim"], c["prefix"]
    pos = torch.tensor(c["pos"], dtype=torch.float64).reshape(prefix + oh * ow, dim)
    grid = pos[prefix:].reshape(1, oh, ow, dim).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, size=(nh, nw), mode="bicubic", align_corners=False, antialias=False)
    grid = grid.permute(0, 2, 3, 1).reshape(nh * nw, dim)
    out.append(torch.cat([pos[:prefix], grid]).flatten().tolist())
json.dump(out, sys.stdout)
