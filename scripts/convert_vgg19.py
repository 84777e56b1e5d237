#!/usr/bin/env python3
"""Writes torchvision's ImageNet-trained VGG-19 convolutional weights as the safetensors file
`atelier style --features FILE` reads (keys features.0.weight, features.0.bias, ...).

    pip install torch torchvision safetensors
    python3 scripts/convert_vgg19.py vgg19.safetensors

The weights (548 MB, of which the convolutional part is 80 MB) download once into torch's cache.
"""
import sys

import torchvision
from safetensors.torch import save_file

out = sys.argv[1] if len(sys.argv) > 1 else "vgg19.safetensors"
vgg = torchvision.models.vgg19(weights=torchvision.models.VGG19_Weights.IMAGENET1K_V1)
# vgg.features is the convolutional part; its state_dict keys are "0.weight", "0.bias", ...
tensors = {f"features.{k}": v.float().contiguous() for k, v in vgg.features.state_dict().items()}
save_file(tensors, out, metadata={"format": "pt", "source": "torchvision vgg19 IMAGENET1K_V1"})
print(f"wrote {out}: {len(tensors)} tensors")
