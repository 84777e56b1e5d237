"""Makes the small .pth test files in tests/data/pth/ (committed; tests never run this).

    python3 scripts/make_pth_fixtures.py [--out tests/data/pth]

Needs PyTorch and safetensors. Every file is made from a fixed seed; see tests/data/pth/README.md
for what each one is. transformer_net.pth and resnet_generator.pth come from ../shared/refs/pth
instead (their README).
"""

import argparse
import os
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file


def tiny_vgg(out):
    """conv1_1 and conv1_2 of VGG-19 with torchvision's keys, in the legacy format as
    torchvision's vgg19-dcbb9e9d.pth is, plus a classifier key a loader must skip; and the
    features at relu1_2 of a small image."""
    g = torch.Generator().manual_seed(11)
    sd = OrderedDict()
    sd["features.0.weight"] = torch.randn(64, 3, 3, 3, generator=g) * 0.2
    sd["features.0.bias"] = torch.randn(64, generator=g) * 0.1
    sd["features.2.weight"] = torch.randn(64, 64, 3, 3, generator=g) * 0.05
    sd["features.2.bias"] = torch.randn(64, generator=g) * 0.1
    sd["classifier.6.weight"] = torch.randn(10, 8, generator=g)
    sd["classifier.6.bias"] = torch.randn(10, generator=g)
    torch.save(sd, os.path.join(out, "tiny_vgg19_features.pth"), _use_new_zipfile_serialization=False)

    x = torch.rand(1, 3, 10, 14, generator=g, dtype=torch.float64)
    mean = torch.tensor([0.485, 0.456, 0.406], dtype=torch.float64).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225], dtype=torch.float64).view(1, 3, 1, 1)
    w = {k: v.double() for k, v in sd.items()}
    y = (x - mean) / std
    y = F.relu(F.conv2d(y, w["features.0.weight"], w["features.0.bias"], padding=1))
    y = F.relu(F.conv2d(y, w["features.2.weight"], w["features.2.bias"], padding=1))
    save_file(
        {"x": x, "y": y.contiguous()},
        os.path.join(out, "tiny_vgg19_features_io.safetensors"),
        metadata={"layer": "relu1_2", "note": "y = VGG-19 features at relu1_2 of x (in [0, 1]), float64"},
    )


class DcganGenerator(nn.Module):
    """pytorch/examples/dcgan's Generator (64x64), with its sizes as arguments."""

    def __init__(self, nz, ngf, nc):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 8),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, z):
        return self.main(z)


def tiny_netg(out):
    """A bare DCGAN generator state_dict as pytorch/examples saves netG_epoch_N.pth, with
    trained-looking running statistics; and its eval-mode output for two noise vectors."""
    torch.manual_seed(5)
    nz, ngf, nc = 8, 4, 3
    net = DcganGenerator(nz, ngf, nc)
    for m in net.modules():  # pytorch/examples' weights_init, with wider norm weights
        if isinstance(m, nn.ConvTranspose2d):
            nn.init.normal_(m.weight, 0.0, 0.05)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.2)
            nn.init.normal_(m.bias, 0.0, 0.1)
    net.train()
    with torch.no_grad():
        for _ in range(3):  # running statistics away from 0 and 1
            net(torch.randn(16, nz, 1, 1) * 1.5 + 0.3)
    torch.save(net.state_dict(), os.path.join(out, "netG_tiny.pth"))

    net.eval().double()
    z = torch.randn(2, nz, 1, 1, dtype=torch.float64)
    with torch.no_grad():
        y = net(z)
    save_file(
        {"z": z, "y": y.contiguous()},
        os.path.join(out, "netG_tiny_io.safetensors"),
        metadata={
            "config": f'{{"nz": {nz}, "ngf": {ngf}, "nc": {nc}, "image_size": 64}}',
            "note": "y = netG(z) in eval mode (running statistics), float64 from the file's float32 weights",
        },
    )


def edge_cases(out):
    """Tensors the way checkpoints really hold them: strided, sharing one storage, every float
    dtype, integers, a Parameter, a broadcast view, an empty tensor; nested under
    "state_dict" beside non-tensor entries. The same content in both formats, and the
    expected values contiguous in float64."""
    g = torch.Generator().manual_seed(3)
    base = torch.arange(12, dtype=torch.float32)
    sd = OrderedDict()
    sd["f32.contiguous"] = torch.randn(3, 4, generator=g)
    sd["f32.transposed"] = torch.randn(4, 3, generator=g).t()
    sd["shared.a"] = base[0:6].view(2, 3)
    sd["shared.b"] = base[6:10]
    sd["f64"] = torch.randn(5, generator=g, dtype=torch.float64)
    sd["f16"] = torch.randn(2, 3, generator=g).half()
    sd["bf16"] = torch.randn(4, generator=g).bfloat16()
    sd["i64"] = torch.tensor([7, -2, 0])
    sd["scalar.i64"] = torch.tensor(5)
    sd["param"] = nn.Parameter(torch.randn(2, 2, generator=g))
    sd["expanded"] = torch.randn(3, 1, generator=g).expand(3, 4)
    sd["empty"] = torch.zeros(0, 3)
    ckpt = {"epoch": 3, "note": "nested", "state_dict": sd}
    torch.save(ckpt, os.path.join(out, "edge_cases.pth"))
    torch.save(ckpt, os.path.join(out, "edge_cases_legacy.pth"), _use_new_zipfile_serialization=False)
    expected = {k: v.detach().double().contiguous() for k, v in sd.items()}
    save_file(
        expected,
        os.path.join(out, "edge_cases_expected.safetensors"),
        metadata={"order": ",".join(sd.keys()), "dtypes": ",".join(str(v.dtype) for v in sd.values())},
    )


class Payload:
    """What a hostile .pth carries: unpickling calls os.system (here a harmless echo)."""

    def __reduce__(self):
        return (os.system, ("echo this file ran code",))


def hostile(out):
    sd = OrderedDict(w=torch.ones(2))
    sd["payload"] = Payload()
    torch.save(sd, os.path.join(out, "runs_code.pth"))


def reference_values(out):
    """A few tensors of the two reference models as torch.load reads them, for the reader's
    tests (values checked against PyTorch's own reading)."""
    picks = {
        "transformer_net.pth": ["conv1.conv2d.bias", "in3.weight", "res5.in2.bias", "deconv3.conv2d.bias",
                                "in1.running_mean", "in5.running_var"],
        "resnet_generator.pth": ["model.1.bias", "model.4.weight", "model.11.conv_block.5.bias",
                                 "model.13.bias", "model.20.weight"],
    }
    for name, keys in picks.items():
        sd = torch.load(os.path.join(out, name), weights_only=True)
        values = {k: sd[k].double().contiguous() for k in keys}
        stem = name.removesuffix(".pth")
        save_file(values, os.path.join(out, f"{stem}_values.safetensors"),
                  metadata={"keys": ",".join(sd.keys()),
                            "shapes": ";".join(",".join(map(str, v.shape)) for v in sd.values())})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="tests/data/pth")
    out = ap.parse_args().out
    os.makedirs(out, exist_ok=True)
    tiny_vgg(out)
    tiny_netg(out)
    edge_cases(out)
    hostile(out)
    reference_values(out)
    print("wrote fixtures to", out)


if __name__ == "__main__":
    main()
