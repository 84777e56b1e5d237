#!/usr/bin/env python3
"""PyTorch's time for every row of an atelier benchmark JSON, at the same shapes.

    python3 scripts/torch_bench.py --atelier bench.json --out torch.json [--tf32] [--device cuda]

Reads the rows `cargo xtask bench --json bench.json` wrote, runs the same work in PyTorch
(cuDNN on a GPU) and writes JSON for `cargo xtask compare`, which joins the two into
BENCHMARKS.md. Strict fp32 by default (TF32 off for matmul and cuDNN), cudnn.benchmark on,
as ../shared/tools/torch_baseline.py. Each row: warm-up runs, then the median of many runs
timed with CUDA events (wall clock around a synchronised run on the CPU).

What each atelier kernel is compared with:
  conv2d.forward / backward_data / backward_weight     F.conv2d, aten.convolution_backward
  conv_transpose2d.* (the same three)                  F.conv_transpose2d, the same backward
  conv*.backward_bias                                  gy.sum((0, 2, 3))
  batchnorm.stats / apply / backward_reduce / backward_apply
                                                       torch.batch_norm_stats, _elemt,
                                                       _backward_reduce, _backward_elemt (the
                                                       CUDA kernels of SyncBatchNorm: the same
                                                       four-kernel split as atelier's)
  matmul                                               torch.mm
  elementwise.*                                        fill_, relu, tanh, leaky_relu_backward,
                                                       add (and add with broadcasting)
  reduce.sum                                           Tensor.sum(dims)
  dcgan.step                                           pytorch/examples' DCGAN training step
                                                       (as torch_baseline.py: D on real and
                                                       fake, Adam; G through D, Adam)
Rows of other kernels (the ceilings) are skipped.
"""
import argparse
import json
import re
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

CONV = re.compile(r"^(\S+) N(\d+) (\d+)x(\d+)x(\d+)>(\d+)x(\d+)x(\d+) (\d+)x(\d+)/s(\d+)/p(\d+)$")
NORM = re.compile(r"^(\S+) N(\d+) (\d+)x(\d+)x(\d+)$")
SQUARE = re.compile(r"^(\d+)x(\d+)x(\d+)$")
BROADCAST = re.compile(r"^\[(\d+),(\d+),(\d+),(\d+)\]\+\[1,(\d+),1,1\]$")
REDUCE = re.compile(r"^\S+ \[([\d, ]+)\] over \[([\d, ]+)\]$")
STEP = re.compile(r"^(\d+)x(\d+) ngf(\d+) ndf(\d+) N(\d+)$")


class Timer:
    def __init__(self, device, budget_s, min_runs, max_runs):
        self.device = device
        self.budget_s, self.min_runs, self.max_runs = budget_s, min_runs, max_runs

    def sync(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize()

    def once(self, fn):
        if self.device.type == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            return start.elapsed_time(end) * 1e-3
        t = time.perf_counter()
        fn()
        return time.perf_counter() - t

    def median(self, fn):
        """Seconds: the median run after warm-up (three runs, the last of which sizes the count)."""
        for _ in range(2):
            fn()
        self.sync()
        first = self.once(fn)
        runs = int(min(self.max_runs, max(self.min_runs, self.budget_s / max(first, 1e-9))))
        times = sorted(self.once(fn) for _ in range(runs))
        return times[len(times) // 2], runs


def rand(*shape, device):
    return torch.rand(*shape, device=device) * 2 - 1


def conv_op(kernel, m, device):
    _, n, c, h, w, k, p, q, r, s, stride, pad = m.groups()
    n, c, h, w, k, p, q, r, s, stride, pad = map(int, (n, c, h, w, k, p, q, r, s, stride, pad))
    transposed = kernel.startswith("conv_transpose2d")
    x = rand(n, c, h, w, device=device)
    # conv2d's weight is [K, C, R, S]; conv_transpose2d's [C_in, C_out, R, S]
    wt = rand(c, k, r, s, device=device) if transposed else rand(k, c, r, s, device=device)
    gy = rand(n, k, p, q, device=device)
    direction = kernel.split(".", 1)[1]

    def backward(mask):
        return lambda: torch.ops.aten.convolution_backward(
            gy, x, wt, None, [stride] * 2, [pad] * 2, [1, 1], transposed, [0, 0], 1, mask)

    if direction == "forward":
        if transposed:
            return lambda: F.conv_transpose2d(x, wt, stride=stride, padding=pad), "F.conv_transpose2d"
        return lambda: F.conv2d(x, wt, stride=stride, padding=pad), "F.conv2d"
    if direction == "backward_data":
        return backward([True, False, False]), "aten.convolution_backward (input)"
    if direction == "backward_weight":
        return backward([False, True, False]), "aten.convolution_backward (weight)"
    if direction == "backward_bias":
        return lambda: gy.sum((0, 2, 3)), "sum over N, H, W"
    return None


def batchnorm_op(kernel, m, device):
    _, n, c, h, w = m.groups()
    n, c, h, w = map(int, (n, c, h, w))
    x, gy = rand(n, c, h, w, device=device), rand(n, c, h, w, device=device)
    weight, bias = rand(c, device=device), rand(c, device=device)
    eps = 1e-5
    mean, invstd = x.mean((0, 2, 3)), torch.rand(c, device=device) + 0.5
    sum_dy, sum_dy_xmu = gy.sum((0, 2, 3)), (gy * x).sum((0, 2, 3))
    count = torch.full((1,), n * h * w, dtype=torch.int32, device=device)
    cnt = float(n * h * w)
    name = kernel.split(".", 1)[1]
    if device.type != "cuda":
        # the SyncBatchNorm kernels are CUDA-only: the same arithmetic in plain ops
        xhat = lambda: (x - mean[None, :, None, None]) * invstd[None, :, None, None]
        ops = {
            "stats": (lambda: torch.var_mean(x, (0, 2, 3), unbiased=False), "var_mean"),
            "apply": (lambda: xhat() * weight[None, :, None, None] + bias[None, :, None, None], "composite"),
            "backward_reduce": (lambda: (gy.sum((0, 2, 3)), (gy * xhat()).sum((0, 2, 3))), "composite"),
            "backward_apply": (lambda: (gy - (sum_dy / cnt)[None, :, None, None]
                                        - xhat() * (sum_dy_xmu / cnt * invstd)[None, :, None, None])
                                       * (invstd * weight)[None, :, None, None], "composite"),
        }
        return ops.get(name)
    ops = {
        "stats": (lambda: torch.batch_norm_stats(x, eps), "torch.batch_norm_stats"),
        "apply": (lambda: torch.batch_norm_elemt(x, weight, bias, mean, invstd, eps), "torch.batch_norm_elemt"),
        "backward_reduce": (lambda: torch.batch_norm_backward_reduce(gy, x, mean, invstd, weight, True, True, True),
                            "torch.batch_norm_backward_reduce"),
        "backward_apply": (lambda: torch.batch_norm_backward_elemt(gy, x, mean, invstd, weight, sum_dy, sum_dy_xmu, count),
                           "torch.batch_norm_backward_elemt"),
    }
    return ops.get(name)


def elementwise_op(row, device):
    kernel, variant, shape = row["kernel"], row["variant"], row["shape"]
    m = BROADCAST.match(shape)
    if kernel == "elementwise.binary_broadcast" and m:
        n, c, h, w, _ = map(int, m.groups())
        a, b = rand(n, c, h, w, device=device), rand(1, c, 1, 1, device=device)
        return lambda: a + b, "a + b (broadcast)"
    if not shape.isdigit():
        return None
    n = int(shape)
    a, b, out = rand(n, device=device), rand(n, device=device), torch.empty(n, device=device)
    ops = {
        ("elementwise.fill", "fill"): (lambda: out.fill_(0.5), "Tensor.fill_"),
        ("elementwise.unary", "relu"): (lambda: torch.relu(a), "torch.relu"),
        ("elementwise.unary", "tanh"): (lambda: torch.tanh(a), "torch.tanh"),
        ("elementwise.unary_backward", "leaky_relu"):
            (lambda: torch.ops.aten.leaky_relu_backward(b, a, 0.2, False), "aten.leaky_relu_backward"),
        ("elementwise.binary", "add"): (lambda: torch.add(a, b, out=out), "torch.add"),
    }
    return ops.get((kernel, variant))


def dcgan_step_op(m, device):
    size, _, ngf, ndf, batch = map(int, m.groups())
    nz, nc = 100, 3
    stages = {32: 3, 64: 4, 128: 5}.get(size)
    if stages is None:
        return None
    g_layers, width = [], ngf << (stages - 1)
    g_layers += [nn.ConvTranspose2d(nz, width, 4, 1, 0, bias=False), nn.BatchNorm2d(width), nn.ReLU(True)]
    for _ in range(stages - 1):
        g_layers += [nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(width // 2), nn.ReLU(True)]
        width //= 2
    g_layers += [nn.ConvTranspose2d(width, nc, 4, 2, 1, bias=False), nn.Tanh()]
    d_layers, width = [nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)], ndf
    for _ in range(stages - 1):
        d_layers += [nn.Conv2d(width, width * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(width * 2), nn.LeakyReLU(0.2, True)]
        width *= 2
    d_layers += [nn.Conv2d(width, 1, 4, 1, 0, bias=False)]
    G, D = nn.Sequential(*g_layers).to(device), nn.Sequential(*d_layers).to(device)
    crit = nn.BCEWithLogitsLoss()
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = rand(batch, nc, size, size, device=device)
    ones, zeros = torch.ones(batch, device=device), torch.zeros(batch, device=device)

    def step():
        D.zero_grad(set_to_none=True)
        z = torch.randn(batch, nz, 1, 1, device=device)
        fake = G(z)
        loss_d = crit(D(real).view(-1), ones) + crit(D(fake.detach()).view(-1), zeros)
        loss_d.backward()
        opt_d.step()
        G.zero_grad(set_to_none=True)
        loss_g = crit(D(fake).view(-1), ones)
        loss_g.backward()
        opt_g.step()

    return step, "pytorch/examples dcgan step"


def op_for(row, device):
    kernel, shape = row["kernel"], row["shape"]
    if kernel.startswith(("conv2d.", "conv_transpose2d.")):
        m = CONV.match(shape)
        return conv_op(kernel, m, device) if m else None
    if kernel.startswith("batchnorm."):
        m = NORM.match(shape)
        return batchnorm_op(kernel, m, device) if m else None
    if kernel == "matmul":
        m = SQUARE.match(shape)
        if not m:
            return None
        mm, nn_, kk = map(int, m.groups())
        a, b = rand(mm, kk, device=device), rand(kk, nn_, device=device)
        return (lambda: torch.mm(a, b)), "torch.mm"
    if kernel.startswith("elementwise."):
        return elementwise_op(row, device)
    if kernel == "reduce.sum":
        m = REDUCE.match(shape)
        if not m:
            return None
        dims_shape = [int(v) for v in m.group(1).split(",")]
        axes = [int(v) for v in m.group(2).split(",")]
        x = rand(*dims_shape, device=device)
        return (lambda: x.sum(axes)), "Tensor.sum"
    if kernel == "dcgan.step":
        m = STEP.match(shape)
        return dcgan_step_op(m, device) if m else None
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--atelier", required=True, help="the JSON `cargo xtask bench --json` wrote")
    ap.add_argument("--out", required=True, help="where PyTorch's times go (JSON)")
    ap.add_argument("--tf32", action="store_true", help="allow TF32 (default: strict fp32)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--quick", action="store_true", help="fewer runs (for a CPU smoke test)")
    args = ap.parse_args()

    device = torch.device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    torch.backends.cudnn.allow_tf32 = args.tf32
    torch.backends.cudnn.benchmark = True
    with open(args.atelier) as f:
        atelier = json.load(f)
    timer = Timer(device, 0.05 if args.quick else 0.5, 3 if args.quick else 10, 10 if args.quick else 100)

    rows, seen = [], set()
    for row in atelier["rows"]:
        key = (row["kernel"], row["variant"] if row["kernel"].startswith("elementwise") else "", row["shape"])
        if key in seen:
            continue
        seen.add(key)
        made = op_for(row, device)
        if made is None:
            if not row["kernel"].startswith("peak."):
                print(f"torch_bench: no PyTorch equivalent for {row['kernel']} {row['shape']}", file=sys.stderr)
            continue
        fn, what = made
        with torch.no_grad() if row["kernel"] != "dcgan.step" else torch.enable_grad():
            seconds, runs = timer.median(fn)
        out = {"kernel": row["kernel"], "shape": row["shape"], "torch_op": what, "ms": seconds * 1e3, "runs": runs}
        if row["kernel"].startswith("elementwise"):
            out["variant"] = row["variant"]
        rows.append(out)
        print(f"{row['kernel']:<30} {row['shape']:<42} {seconds * 1e3:>10.4f} ms  {what}", flush=True)
        del fn

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    result = {
        "device": name,
        "torch": torch.__version__,
        "cudnn": torch.backends.cudnn.version() if device.type == "cuda" else None,
        "cuda": torch.version.cuda,
        "tf32": args.tf32,
        "timer": "cuda-events" if device.type == "cuda" else "wall-clock",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "rows": rows,
    }
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    print(f"{len(rows)} rows: {args.out}")


if __name__ == "__main__":
    main()
