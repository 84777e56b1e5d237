#!/usr/bin/env python3
"""Continue an atelier DCGAN run in PyTorch, data-parallel over N processes (DDP).

    torchrun --nproc_per_node 2 scripts/continue_in_pytorch.py runs/demo --data DIR --steps 800

When a run outgrows one GPU, PyTorch's DistributedDataParallel is the engine that serves it.
This reads RUN_DIR/checkpoint.safetensors as `atelier gan train` writes it (generator and
discriminator under netG./netD. with PyTorch's state_dict names, both Adams' moments under
optim.netG./optim.netD., the position under trainer., the run's config in the metadata),
rebuilds pytorch/examples' DCGAN at the run's sizes, trains on with DDP, and writes the
checkpoint back in the same layout (temp file + rename), so `atelier gan sample`,
`gan interpolate`, `gan eval --checkpoint RUN_DIR/checkpoint.safetensors` and
`atelier gan train --resume RUN_DIR` take it. Losses are appended to RUN_DIR/metrics.csv and
RUN_DIR/scalars.csv (so the run page's curves go on) and, when the tensorboard package is
installed, to a new TensorBoard event file in RUN_DIR.

The step is atelier's (and pytorch/examples'): D on a real and a fake batch (BCE on logits),
Adam(betas 0.5, 0.999); then G through the updated D, D's weights left out. Each process takes
--batch images a step (default: the run's batch), so the global batch is N times that; the
learning rate is the run's unless --lr says otherwise.

--data: a folder of images (png/jpg/bmp/webp; resized on the short side and centre-cropped to
the run's size) or idx:PATH (MNIST-style, raw or .gz). builtin: datasets are drawn in Rust:
dump one first with `atelier data dump --data builtin:rothko --image-size 32 --out DIR`
(with the run's --seed).

Backend: gloo on CPUs, NCCL when CUDA is available (--backend to choose). Without torchrun it
runs as a single process. Needs python >= 3.9, torch, safetensors; pillow for image folders.
"""

import argparse
import csv
import gzip
import json
import math
import os
import struct
import sys
import time

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

FORMAT = "atelier-dcgan-1"


# ---- models: pytorch/examples' DCGAN at atelier's sizes (32, 64 or 128 px) ---------------------

def stages(image_size):
    return int(math.log2(image_size // 4))


def generator_layers(m):
    s, nz, nc = stages(m["image_size"]), m["nz"], m["channels"]
    width = m["ngf"] << (s - 1)
    layers = [nn.ConvTranspose2d(nz, width, 4, 1, 0, bias=False), nn.BatchNorm2d(width), nn.ReLU(True)]
    for _ in range(1, s):
        layers += [nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False),
                   nn.BatchNorm2d(width // 2), nn.ReLU(True)]
        width //= 2
    layers += [nn.ConvTranspose2d(width, nc, 4, 2, 1, bias=False), nn.Tanh()]
    return nn.Sequential(*layers)


class Discriminator(nn.Module):
    """Logits, no sigmoid (the loss takes logits), as atelier's."""

    def __init__(self, m):
        super().__init__()
        s, nc, width = stages(m["image_size"]), m["channels"], m["ndf"]
        layers = [nn.Conv2d(nc, width, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)]
        for _ in range(1, s):
            layers += [nn.Conv2d(width, width * 2, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(width * 2), nn.LeakyReLU(0.2, True)]
            width *= 2
        layers += [nn.Conv2d(width, 1, 4, 1, 0, bias=False)]
        self.main = nn.Sequential(*layers)

    def forward(self, x):
        return self.main(x).view(-1)


class Generator(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.main = generator_layers(m)

    def forward(self, z):
        return self.main(z)


# ---- checkpoint ----------------------------------------------------------------------------

def sub_dict(sd, prefix):
    p = prefix + "."
    return {k[len(p):]: v for k, v in sd.items() if k.startswith(p)}


def load_adam(opt, model, sd, prefix):
    """Adam's moments and step from atelier's optim.<net>.<param>.exp_avg/.exp_avg_sq/.step."""
    step = float(sd[f"{prefix}.step"].item())
    for name, p in model.named_parameters():
        opt.state[p] = {
            "step": torch.tensor(step),
            "exp_avg": sd[f"{prefix}.{name}.exp_avg"].to(p.device, torch.float32).clone(),
            "exp_avg_sq": sd[f"{prefix}.{name}.exp_avg_sq"].to(p.device, torch.float32).clone(),
        }


def adam_tensors(opt, model, prefix):
    out, step = {}, 0
    for name, p in model.named_parameters():
        st = opt.state[p]
        out[f"{prefix}.{name}.exp_avg"] = st["exp_avg"].detach().float().cpu().contiguous()
        out[f"{prefix}.{name}.exp_avg_sq"] = st["exp_avg_sq"].detach().float().cpu().contiguous()
        step = int(float(st["step"]))
    out[f"{prefix}.step"] = torch.tensor(step, dtype=torch.int64)
    return out


def state_tensors(model, prefix):
    out = {}
    for k, v in model.state_dict().items():
        v = v.detach().cpu().contiguous()
        out[f"{prefix}.{k}"] = v if v.dtype == torch.int64 else v.float()
    return out


def save_checkpoint(path, netG, netD, optG, optD, step, run):
    bpe = run["batches_per_epoch"]
    tensors = {}
    tensors.update(state_tensors(netG, "netG"))
    tensors.update(state_tensors(netD, "netD"))
    tensors.update(adam_tensors(optG, netG, "optim.netG"))
    tensors.update(adam_tensors(optD, netD, "optim.netD"))
    # atelier's position: the data order differs here, so resume at the batch an atelier run
    # of this many steps would have reached
    for key, value in [("step", step), ("epoch", step // bpe), ("batch_index", step % bpe),
                       ("rng_position", step)]:
        tensors[f"trainer.{key}"] = torch.tensor(value, dtype=torch.int64)
    run = dict(run)
    run["train"] = dict(run["train"], steps=step)
    run["total_steps"] = step
    tmp = path + ".tmp"
    save_file(tensors, tmp, metadata={"format": FORMAT, "config": json.dumps(run, indent=2)})
    os.replace(tmp, path)


# ---- data ----------------------------------------------------------------------------------

def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08 or ndim not in (3, 4):
        sys.exit(f"{path}: not an IDX file of uint8 images (magic {data[:4].hex()})")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    images = torch.frombuffer(bytearray(data[4 + 4 * ndim:]), dtype=torch.uint8).reshape(dims)
    if ndim == 3:
        images = images.unsqueeze(1)
    else:
        images = images.permute(0, 3, 1, 2)
    return images.float() / 255.0


def read_folder(path, size, channels):
    try:
        from PIL import Image
    except ImportError:
        sys.exit("reading an image folder needs pillow: pip install pillow")
    exts = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
    files = sorted(os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs
                   if f.lower().endswith(exts))
    if not files:
        sys.exit(f"{path}: no images (png/jpg/bmp/webp) in this folder")
    out, skipped = [], 0
    for f in files:
        try:
            im = Image.open(f)
            im = im.convert("L" if channels == 1 else "RGB")
        except Exception as e:  # corrupt files are skipped, as atelier does
            print(f"skipping {f}: {e}", file=sys.stderr)
            skipped += 1
            continue
        w, h = im.size
        side = min(w, h)
        im = im.crop(((w - side) // 2, (h - side) // 2, (w - side) // 2 + side, (h - side) // 2 + side))
        if side != size:
            im = im.resize((size, size), Image.LANCZOS if side > size else Image.BICUBIC)
        t = torch.frombuffer(bytearray(im.tobytes()), dtype=torch.uint8).reshape(size, size, channels)
        out.append(t.permute(2, 0, 1).float() / 255.0)
    if skipped:
        print(f"skipped {skipped} unreadable file(s)", file=sys.stderr)
    return torch.stack(out)


def dataset(spec, size, channels):
    if spec.startswith("builtin:"):
        sys.exit(f"--data {spec}: builtin art is drawn in Rust; dump it first with "
                 f"`atelier data dump --data {spec} --image-size {size} --out DIR` and pass DIR")
    x = read_idx(spec[4:]) if spec.startswith("idx:") else read_folder(spec, size, channels)
    if x.shape[1] != channels:
        x = x.mean(1, keepdim=True) if channels == 1 else x.expand(-1, channels, -1, -1)
    if x.shape[-1] != size or x.shape[-2] != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return TensorDataset(x * 2.0 - 1.0)


# ---- training ------------------------------------------------------------------------------

def setup(backend):
    if "RANK" not in os.environ:  # plain `python`: one process
        os.environ.update(RANK="0", WORLD_SIZE="1", LOCAL_RANK="0", MASTER_ADDR="127.0.0.1",
                          MASTER_PORT=os.environ.get("MASTER_PORT", "29533"))
    if backend == "auto":
        backend = "nccl" if torch.cuda.is_available() else "gloo"
    dist.init_process_group(backend)
    local = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device(f"cuda:{local}") if backend == "nccl" else torch.device("cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    return dist.get_rank(), dist.get_world_size(), device, backend


def append_logs(run_dir, rows, writer):
    with open(os.path.join(run_dir, "metrics.csv"), "a", newline="") as f:
        w = csv.writer(f)
        for r in rows:
            w.writerow([r["step"], r["epoch"], *(f"{r[k]:.6g}" for k in
                        ("loss_d", "loss_g", "d_x", "d_g_z1", "d_g_z2")), f"{r['ips']:.1f}"])
    tags = [("loss/D", "loss_d"), ("loss/G", "loss_g"), ("D/D(x)", "d_x"),
            ("D/D(G(z)) before D step", "d_g_z1"), ("D/D(G(z)) after D step", "d_g_z2"),
            ("lr", "lr"), ("perf/images_per_s", "ips")]
    with open(os.path.join(run_dir, "scalars.csv"), "a") as f:
        for r in rows:
            for tag, k in tags:
                f.write(f"{r['step']},{tag},{r[k]}\n")
                if writer is not None:
                    writer.add_scalar(tag, r[k], r["step"])
    if writer is not None:
        writer.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run_dir", help="an atelier DCGAN run folder (with checkpoint.safetensors)")
    ap.add_argument("--data", required=True, help="image folder or idx:PATH (see above)")
    ap.add_argument("--steps", type=int, required=True, help="total steps to reach")
    ap.add_argument("--batch", type=int, help="images per process per step (default: the run's)")
    ap.add_argument("--lr", type=float, help="learning rate (default: the run's)")
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--checkpoint-every", type=int, default=500)
    ap.add_argument("--backend", choices=["auto", "gloo", "nccl"], default="auto")
    args = ap.parse_args()

    rank, world, device, backend = setup(args.backend)
    path = os.path.join(args.run_dir, "checkpoint.safetensors")
    if not os.path.exists(path):
        sys.exit(f"{args.run_dir}: no checkpoint.safetensors (not an atelier gan run?)")
    from safetensors import safe_open
    with safe_open(path, "pt") as f:
        meta = f.metadata() or {}
    if meta.get("format") != FORMAT:
        sys.exit(f"{path}: format {meta.get('format')!r}, expected {FORMAT!r} (atelier gan train)")
    run = json.loads(meta["config"])
    sd = load_file(path)
    m, train = run["model"], run["train"]
    step = int(sd["trainer.step"].item())
    if args.steps <= step:
        sys.exit(f"the run is at step {step}; --steps must be larger")
    lr = args.lr or train["lr"]
    batch = args.batch or train["batch"]
    torch.manual_seed(train["seed"] * 1000 + rank)

    netG, netD = Generator(m).to(device), Discriminator(m).to(device)
    netG.load_state_dict(sub_dict(sd, "netG"))
    netD.load_state_dict(sub_dict(sd, "netD"))
    optG = torch.optim.Adam(netG.parameters(), lr=lr, betas=(0.5, 0.999))
    optD = torch.optim.Adam(netD.parameters(), lr=lr, betas=(0.5, 0.999))
    load_adam(optG, netG, sd, "optim.netG")
    load_adam(optD, netD, sd, "optim.netD")
    ids = [device.index] if device.type == "cuda" else None
    ddpG, ddpD = DDP(netG, device_ids=ids), DDP(netD, device_ids=ids)

    data = dataset(args.data, m["image_size"], m["channels"])
    if len(data) < batch * world:
        sys.exit(f"{len(data)} images is fewer than {world} processes × batch {batch}")
    sampler = DistributedSampler(data, num_replicas=world, rank=rank, shuffle=True,
                                 seed=train["seed"], drop_last=True)
    loader = DataLoader(data, batch_size=batch, sampler=sampler, drop_last=True)
    if rank == 0:
        print(f"{args.run_dir}: step {step} -> {args.steps}; {world} process(es) on {backend} "
              f"({device}), batch {batch} each (global {batch * world}), lr {lr}, "
              f"{len(data)} images, {len(loader)} batches per process per epoch", flush=True)
    writer = None
    if rank == 0:
        try:
            from torch.utils.tensorboard import SummaryWriter
            writer = SummaryWriter(args.run_dir)
        except ImportError:
            pass

    bce = nn.BCEWithLogitsLoss()
    d_params = list(netD.parameters())
    epoch, rows, t0, since = step // len(loader), [], time.time(), step
    while step < args.steps:
        sampler.set_epoch(epoch)
        for (real,) in loader:
            real = real.to(device)
            b = real.shape[0]
            ones, zeros = torch.ones(b, device=device), torch.zeros(b, device=device)
            z = torch.randn(b, m["nz"], 1, 1, device=device)
            # (1) D: real and detached fake, one backward (DDP averages D's gradients)
            optD.zero_grad()
            fake = ddpG(z)
            out_real = ddpD(real)
            out_fake = ddpD(fake.detach())
            loss_d = bce(out_real, ones) + bce(out_fake, zeros)
            loss_d.backward()
            optD.step()
            # (2) G through the updated D; D's weights frozen and its DDP wrapper bypassed,
            # so only G's gradients are computed and averaged
            optG.zero_grad()
            for p in d_params:
                p.requires_grad_(False)
            out_g = netD(fake)
            loss_g = bce(out_g, ones)
            loss_g.backward()
            for p in d_params:
                p.requires_grad_(True)
            optG.step()
            step += 1
            if step % args.log_every == 0 or step == args.steps:
                v = torch.stack([loss_d.detach(), loss_g.detach(), torch.sigmoid(out_real).mean(),
                                 torch.sigmoid(out_fake).mean(), torch.sigmoid(out_g).mean()])
                dist.all_reduce(v)
                v = (v / world).tolist()
                ips = (step - since) * b * world / max(time.time() - t0, 1e-9)
                t0, since = time.time(), step
                if not all(math.isfinite(x) for x in v):
                    sys.exit(f"training diverged at step {step}; the checkpoint was not overwritten")
                if rank == 0:
                    print(f"[{step}/{args.steps}] Loss_D: {v[0]:.4f}  Loss_G: {v[1]:.4f}  "
                          f"D(x): {v[2]:.4f}  D(G(z)): {v[3]:.4f} / {v[4]:.4f}  "
                          f"{ips:.1f} images/s", flush=True)
                    rows.append(dict(step=step, epoch=step // run["batches_per_epoch"], loss_d=v[0], loss_g=v[1], d_x=v[2],
                                     d_g_z1=v[3], d_g_z2=v[4], lr=lr, ips=ips))
            if step % args.checkpoint_every == 0 or step == args.steps:
                if rank == 0:
                    save_checkpoint(path, netG, netD, optG, optD, step, run)
                    append_logs(args.run_dir, rows, writer)
                    rows = []
                    print(f"wrote {path} at step {step}", flush=True)
                dist.barrier()
            if step >= args.steps:
                break
        epoch += 1
    if rank == 0:
        print(f"done. Back in atelier: atelier gan sample --checkpoint {path}; "
              f"atelier gan train --resume {args.run_dir} --steps N", flush=True)
        if writer is not None:
            writer.close()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
