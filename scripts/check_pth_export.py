"""Checks `atelier export --format pth` with PyTorch itself: loads the files with
torch.load(weights_only=True) into pytorch/examples' own model classes (strict
load_state_dict) and compares their outputs with the float64 references in tests/data/pth.
Needs PyTorch and safetensors; the tests never run it.

    D=tests/data/pth; O=/tmp/pthcheck; mkdir -p $O
    atelier export --format pth --checkpoint $D/netG_tiny.pth --out $O/netG.pth
    atelier export --format pth --checkpoint $D/transformer_net.pth --out $O/style.pth
    atelier gan train --data builtin:mondrian --image-size 64 --ngf 4 --ndf 4 --nz 8 --batch 4 \
        --steps 2 --device cpu --out $O/run
    atelier export --format pth --checkpoint $O/run/checkpoint.safetensors --out $O/run_netG.pth
    atelier export --format pth --checkpoint $O/run/checkpoint.safetensors --out $O/run_netD.pth --what netD
    python3 scripts/check_pth_export.py $D $O
"""
import sys, json
import torch, torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file

data = sys.argv[1]; out = sys.argv[2]

class DcganG(nn.Module):
    def __init__(s, nz, ngf, nc):
        super().__init__()
        s.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh())
    def forward(s, z): return s.main(z)

class DcganD(nn.Module):
    def __init__(s, ndf, nc):
        super().__init__()
        s.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 8), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False), nn.Sigmoid())
    def forward(s, x): return s.main(x)

class ConvLayer(nn.Module):
    def __init__(s, i, o, k, stride):
        super().__init__(); s.reflection_pad = nn.ReflectionPad2d(k // 2); s.conv2d = nn.Conv2d(i, o, k, stride)
    def forward(s, x): return s.conv2d(s.reflection_pad(x))

class ResidualBlock(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.conv1 = ConvLayer(c, c, 3, 1); s.in1 = nn.InstanceNorm2d(c, affine=True)
        s.conv2 = ConvLayer(c, c, 3, 1); s.in2 = nn.InstanceNorm2d(c, affine=True); s.relu = nn.ReLU()
    def forward(s, x): return s.in2(s.conv2(s.relu(s.in1(s.conv1(x))))) + x

class UpsampleConvLayer(nn.Module):
    def __init__(s, i, o, k, stride, upsample=None):
        super().__init__(); s.upsample = upsample
        s.reflection_pad = nn.ReflectionPad2d(k // 2); s.conv2d = nn.Conv2d(i, o, k, stride)
    def forward(s, x):
        if s.upsample: x = F.interpolate(x, mode="nearest", scale_factor=s.upsample)
        return s.conv2d(s.reflection_pad(x))

class TransformerNet(nn.Module):
    def __init__(s):
        super().__init__()
        s.conv1 = ConvLayer(3, 32, 9, 1); s.in1 = nn.InstanceNorm2d(32, affine=True)
        s.conv2 = ConvLayer(32, 64, 3, 2); s.in2 = nn.InstanceNorm2d(64, affine=True)
        s.conv3 = ConvLayer(64, 128, 3, 2); s.in3 = nn.InstanceNorm2d(128, affine=True)
        s.res1, s.res2, s.res3, s.res4, s.res5 = [ResidualBlock(128) for _ in range(5)]
        s.deconv1 = UpsampleConvLayer(128, 64, 3, 1, 2); s.in4 = nn.InstanceNorm2d(64, affine=True)
        s.deconv2 = UpsampleConvLayer(64, 32, 3, 1, 2); s.in5 = nn.InstanceNorm2d(32, affine=True)
        s.deconv3 = ConvLayer(32, 3, 9, 1); s.relu = nn.ReLU()
    def forward(s, x):
        y = s.relu(s.in1(s.conv1(x))); y = s.relu(s.in2(s.conv2(y))); y = s.relu(s.in3(s.conv3(y)))
        for r in (s.res1, s.res2, s.res3, s.res4, s.res5): y = r(y)
        y = s.relu(s.in4(s.deconv1(y))); y = s.relu(s.in5(s.deconv2(y))); return s.deconv3(y)

def rel(a, b): return ((a - b).norm() / b.norm()).item()

# 1. a pytorch/examples generator, read and exported by atelier
io = load_file(f"{data}/netG_tiny_io.safetensors"); cfg = {"nz": 8, "ngf": 4, "nc": 3}
g = DcganG(**cfg); sd = torch.load(f"{out}/netG.pth", weights_only=True)
print("netG.pth:", type(sd).__name__, len(sd), "tensors;", g.load_state_dict(sd, strict=True))
g.eval().double()
with torch.no_grad(): print("  output vs the original file's:", rel(g(io["z"]), io["y"]))
# 2. TransformerNet from the legacy file, exported
io = load_file(f"{data}/transformer_net_io.safetensors")
t = TransformerNet(); sd = torch.load(f"{out}/style.pth", weights_only=True)
print("style.pth:", len(sd), "tensors;", t.load_state_dict(sd, strict=True))
t.double()
with torch.no_grad(): print("  output vs the original file's:", rel(t(io["x"]), io["y"]))
# 3. a 64x64 atelier training run's netG and netD into pytorch/examples' classes
g = DcganG(nz=8, ngf=4, nc=3); d = DcganD(ndf=4, nc=3)
sdg = torch.load(f"{out}/run_netG.pth", weights_only=True); sdd = torch.load(f"{out}/run_netD.pth", weights_only=True)
print("run_netG.pth:", g.load_state_dict(sdg, strict=True), sdg["main.1.num_batches_tracked"].dtype, sdg["main.1.num_batches_tracked"].item())
print("run_netD.pth:", d.load_state_dict(sdd, strict=True))
with torch.no_grad():
    g.eval(); img = g(torch.randn(2, 8, 1, 1)); print("  G(z):", tuple(img.shape), "D(G(z)):", d.eval()(img).flatten().tolist())
