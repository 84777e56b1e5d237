"""PyTorch's time for every row of an atelier benchmark JSON, at the same shapes.

    python3 scripts/torch_bench.py --atelier bench.json --out torch.json [--tf32] [--device cuda]
    python3 scripts/torch_bench.py --atelier bench.json --out torch.json --device cpu --threads 2

Reads the rows `cargo xtask bench --json bench.json` wrote, runs the same work in PyTorch
(cuDNN on a GPU) and writes JSON for `cargo xtask compare`, which joins the two into
BENCHMARKS.md. Strict fp32 by default (TF32 off for matmul and cuDNN), cudnn.benchmark on.
Each row: warm-up runs, then the median of many runs timed with CUDA events (wall clock around
a synchronised run on the CPU).

What each row is compared with comes from the row itself: every kernel family's benchmark
cases name their PyTorch equivalent (`torch` in the JSON: a Python expression over named
random tensors, e.g. `F.conv2d(x, w, stride=(2, 2), padding=(1, 1), dilation=(1, 1))`,
`aten.convolution_backward(...)`, SyncBatchNorm's CUDA kernels with a CPU replacement), so this
script needs no change when a family is added. The whole DCGAN step (`dcgan.step`) is
pytorch/examples' training step, built here; `style.gatys_step` the same Gatys step as
atelier_style's (VGG-19 to relu5_1, Gram losses, Adam on the pixels). Rows without an equivalent (the ceilings) are
skipped.
"""
import argparse
import json
import re
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

STEP = re.compile(r"^(\d+)x(\d+) ngf(\d+) ndf(\d+) N(\d+)$")
GATYS = re.compile(r"^(\d+)x(\d+) N(\d+) vgg19 to relu5_1$")
# rows that train (autograd on); every other row runs under no_grad
STEP_KERNELS = ("dcgan.step", "style.gatys_step")


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


def torch_op(spec, device):
    """The callable a row's `torch` entry describes, and a label of what it runs."""
    env = {"torch": torch, "F": F, "aten": torch.ops.aten}
    for inp in spec["inputs"]:
        init, shape = inp["init"], inp["shape"]
        if init == "rand":
            env[inp["name"]] = rand(*shape, device=device)
        elif init == "positive":
            env[inp["name"]] = torch.rand(*shape, device=device) + 0.5
        elif init == "count":
            env[inp["name"]] = torch.full(shape, int(inp["value"]), dtype=torch.int32, device=device)
        elif init == "scalar":
            env[inp["name"]] = float(inp["value"])
        else:
            raise ValueError(f"unknown input kind {init!r}")
    expr = spec["expr"]
    if device.type != "cuda" and spec.get("cpu_expr"):
        expr = spec["cpu_expr"]
    code = compile(expr, "<bench row>", "eval")
    return (lambda: eval(code, env)), expr.split("(")[0]


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


# VGG-19's `features` (torchvision's configuration E), built here so this script needs only
# torch; ReLUs are not in place, so the content layer's output (conv4_2) survives its ReLU.
VGG19_E = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"]
CONTENT_INDEX = 21  # conv4_2
STYLE_INDICES = [1, 6, 11, 20, 29]  # relu1_1 .. relu5_1


def gatys_step_op(m, device):
    """atelier_style::gatys::adam_step: the same losses, weights and optimiser."""
    h, w, n = map(int, m.groups())
    layers, c = [], 3
    for v in VGG19_E:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(c, v, 3, padding=1), nn.ReLU(inplace=False)]
            c = v
    vgg = nn.Sequential(*layers[: STYLE_INDICES[-1] + 1]).to(device).eval()
    for p in vgg.parameters():
        p.requires_grad_(False)
    mean = torch.tensor([0.485, 0.456, 0.406], device=device).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225], device=device).view(1, 3, 1, 1)
    wanted = [CONTENT_INDEX] + STYLE_INDICES

    def extract(x):
        out, x = {}, (x - mean) / std
        for i, layer in enumerate(vgg):
            x = layer(x)
            if i in wanted:
                out[i] = x
        return out

    def gram(f):
        b, ch, fh, fw = f.shape
        f = f.reshape(b, ch, fh * fw)
        return f @ f.transpose(1, 2) / (ch * fh * fw)

    content = torch.rand(n, 3, h, w, device=device)
    style = torch.rand(n, 3, h, w, device=device)
    with torch.no_grad():
        target = extract(content)[CONTENT_INDEX]
        style_grams = [gram(f) for i, f in sorted(extract(style).items()) if i in STYLE_INDICES]
    x = content.clone().requires_grad_(True)
    opt = torch.optim.Adam([x], lr=0.02)
    w_content, w_style, w_tv = 1.0, 1e5, 1.0

    def step():
        opt.zero_grad(set_to_none=True)
        feats = extract(x)
        loss = w_content * F.mse_loss(feats[CONTENT_INDEX], target)
        loss = loss + w_style * sum(F.mse_loss(gram(feats[i]), g) for i, g in zip(STYLE_INDICES, style_grams))
        tv = (x[:, :, 1:] - x[:, :, :-1]).square().mean() + (x[:, :, :, 1:] - x[:, :, :, :-1]).square().mean()
        loss = loss + w_tv * tv
        loss.backward()
        opt.step()
        with torch.no_grad():
            x.clamp_(0, 1)

    return step, "gatys step (vgg19 to relu5_1, adam)"


def op_for(row, device):
    if row["kernel"] == "style.gatys_step":
        m = GATYS.match(row["shape"])
        return gatys_step_op(m, device) if m else None
    if row["kernel"] == "dcgan.step":
        m = STEP.match(row["shape"])
        return dcgan_step_op(m, device) if m else None
    if row.get("torch"):
        return torch_op(row["torch"], device)
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--atelier", required=True, help="the JSON `cargo xtask bench --json` wrote")
    ap.add_argument("--out", required=True, help="where PyTorch's times go (JSON)")
    ap.add_argument("--tf32", action="store_true", help="allow TF32 (default: strict fp32)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--quick", action="store_true", help="fewer runs (for a CPU smoke test)")
    ap.add_argument("--threads", type=int, help="CPU threads (torch.set_num_threads); give the "
                    "fast CPU device's count (ATELIER_THREADS, default one per core) to compare")
    args = ap.parse_args()

    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    torch.backends.cudnn.allow_tf32 = args.tf32
    torch.backends.cudnn.benchmark = True
    with open(args.atelier) as f:
        atelier = json.load(f)
    timer = Timer(device, 0.05 if args.quick else 0.5, 3 if args.quick else 10, 10 if args.quick else 100)

    rows, seen = [], set()
    for row in atelier["rows"]:
        # one PyTorch time per distinct piece of work (the variants of a row share it)
        key = (row["kernel"], json.dumps(row.get("torch"), sort_keys=True), row["shape"])
        if key in seen:
            continue
        seen.add(key)
        made = op_for(row, device)
        if made is None:
            if not row["kernel"].startswith("peak."):
                print(f"torch_bench: no PyTorch equivalent for {row['kernel']} {row['shape']}", file=sys.stderr)
            continue
        fn, what = made
        with torch.enable_grad() if row["kernel"] in STEP_KERNELS else torch.no_grad():
            seconds, runs = timer.median(fn)
        out = {"kernel": row["kernel"], "shape": row["shape"], "torch_op": what, "ms": seconds * 1e3, "runs": runs}
        if row["kernel"].startswith("elementwise"):
            # elementwise rows of one shape differ by op (the variant column names it)
            out["variant"] = row["variant"]
        rows.append(out)
        print(f"{row['kernel']:<30} {row['shape']:<42} {seconds * 1e3:>10.4f} ms  {what}", flush=True)
        del fn

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu ({torch.get_num_threads()} threads)"
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
