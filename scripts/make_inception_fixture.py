#!/usr/bin/env python3
"""Writes tests/data/inception/fid_inception.safetensors: pytorch-fid's own InceptionV3 (the
FID network) run in float64 on inputs and weights that atelier's test rebuilds bit for bit,
so the Rust network can be checked block by block without the real weights file (which
cannot be downloaded here, and is 91 MB).

Weights and inputs come from `values(key, n)`: SplitMix64 over FNV-1a(key) + index, the top
24 bits as a uniform in [0, 1) (exact in f32). crates/atelier-gan/src/inception/testing.rs
implements the same function; only the outputs are stored.

    pip install torch torchvision pytorch-fid safetensors
    python3 scripts/make_inception_fixture.py [--out tests/data/inception/fid_inception.safetensors]

The cases (in the file's metadata, `cases`, which the test reads):
  - resize:   F.interpolate(bilinear, align_corners=False), as pytorch-fid resizes to 299,
              up and down at small sizes;
  - blocks:   each Inception block type (Mixed_5b A, Mixed_6a B, Mixed_6b C, Mixed_7a D,
              Mixed_7b E_1, Mixed_7c E_2) on a batch of 2 tiny inputs;
  - network:  pytorch-fid's InceptionV3 (output block 3, normalize_input, no resize) on one
              75x75 image in [0, 1] (the smallest the network takes): block 1 and the 2048-d
              pool features.
"""

import argparse
import json

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

import pytorch_fid.inception as fid

MASK64 = (1 << 64) - 1


def fnv1a64(s: str) -> int:
    h = 0xCBF29CE484222325
    for b in s.encode():
        h ^= b
        h = (h * 0x100000001B3) & MASK64
    return h


def values(key: str, n: int) -> np.ndarray:
    """n uniforms in [0, 1), float64 holding f32-exact values."""
    with np.errstate(over="ignore"):
        z = np.uint64(fnv1a64(key)) + np.arange(n, dtype=np.uint64)
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)).astype(np.float64) / float(1 << 24)


def f32(a: np.ndarray) -> np.ndarray:
    """Rounded to f32 and back: what the Rust side holds."""
    return a.astype(np.float32).astype(np.float64)


def tensor_for(key: str, shape) -> torch.Tensor:
    """The deterministic value of a state_dict entry (see testing.rs)."""
    n = int(np.prod(shape))
    u = values(key, n)
    if key.endswith("conv.weight"):
        fan_in = int(np.prod(shape[1:]))
        v = (2.0 * u - 1.0) * np.sqrt(6.0 / fan_in)
    elif key.endswith("bn.weight") or key.endswith("bn.running_var"):
        v = 0.5 + u
    elif key.endswith("bn.bias") or key.endswith("bn.running_mean"):
        v = (u - 0.5) * 0.2
    else:  # fc and anything else the features never use
        v = u - 0.5
    return torch.from_numpy(f32(v)).reshape(shape)


def input_for(key: str, shape, lo: float, hi: float) -> torch.Tensor:
    n = int(np.prod(shape))
    return torch.from_numpy(f32(lo + (hi - lo) * values(key, n))).reshape(shape)


def state_dict_like(model: torch.nn.Module) -> dict:
    sd = {}
    for k, v in model.state_dict().items():
        sd[k] = v if k.endswith("num_batches_tracked") else tensor_for(k, v.shape).float()
    return sd


def fid_network() -> fid.InceptionV3:
    """pytorch-fid's InceptionV3 with the deterministic weights in place of the download."""
    template = fid._inception_v3(num_classes=1008, aux_logits=False, weights=None)
    template.Mixed_5b = fid.FIDInceptionA(192, pool_features=32)
    template.Mixed_5c = fid.FIDInceptionA(256, pool_features=64)
    template.Mixed_5d = fid.FIDInceptionA(288, pool_features=64)
    template.Mixed_6b = fid.FIDInceptionC(768, channels_7x7=128)
    template.Mixed_6c = fid.FIDInceptionC(768, channels_7x7=160)
    template.Mixed_6d = fid.FIDInceptionC(768, channels_7x7=160)
    template.Mixed_6e = fid.FIDInceptionC(768, channels_7x7=192)
    template.Mixed_7b = fid.FIDInceptionE_1(1280)
    template.Mixed_7c = fid.FIDInceptionE_2(2048)
    weights = state_dict_like(template)
    fid.load_state_dict_from_url = lambda *a, **k: weights
    net = fid.InceptionV3([1, 3], resize_input=False, normalize_input=True)
    return net.double().eval()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="tests/data/inception/fid_inception.safetensors")
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    out, cases = {}, []

    for name, src, dst in [("up", [1, 3, 7, 5], [13, 11]), ("down", [2, 3, 13, 11], [6, 4])]:
        x = input_for(f"input.resize.{name}", src, -1.0, 1.0)
        y = F.interpolate(x, size=tuple(dst), mode="bilinear", align_corners=False)
        out[f"resize.{name}"] = y.float()
        cases.append({"kind": "resize", "name": name, "input": src, "size": dst})

    net = fid_network()
    inception = {
        "Mixed_5b": net.blocks[2][0], "Mixed_6a": net.blocks[2][3], "Mixed_6b": net.blocks[2][4],
        "Mixed_7a": net.blocks[3][0], "Mixed_7b": net.blocks[3][1], "Mixed_7c": net.blocks[3][2],
    }
    for block, channels, size in [("Mixed_5b", 192, 3), ("Mixed_6a", 288, 5), ("Mixed_6b", 768, 3),
                                  ("Mixed_7a", 768, 5), ("Mixed_7b", 1280, 3), ("Mixed_7c", 2048, 3)]:
        shape = [2, channels, size, size]
        x = input_for(f"input.{block}", shape, 0.0, 2.0)
        out[f"block.{block}"] = inception[block](x).float()
        cases.append({"kind": "block", "name": block, "input": shape})

    shape = [1, 3, 75, 75]
    x = input_for("input.network", shape, 0.0, 1.0)
    block1, pool = net(x)
    out["network.block1"] = block1.float()
    out["network.pool"] = pool.float()
    cases.append({"kind": "network", "name": "network", "input": shape})

    meta = {
        "cases": json.dumps(cases),
        "torch": torch.__version__,
        "pytorch_fid": getattr(fid, "__version__", None) or __import__("pytorch_fid").__version__,
        "note": "float64 pytorch-fid modules, outputs rounded to f32; see scripts/make_inception_fixture.py",
    }
    save_file({k: v.contiguous() for k, v in out.items()}, args.out, metadata=meta)
    print(f"wrote {args.out}: {len(out)} tensors, {sum(v.numel() for v in out.values())} values")


if __name__ == "__main__":
    main()
