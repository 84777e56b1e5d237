#!/usr/bin/env python3
"""Check an ONNX file written by `atelier export` with the ONNX tools and onnxruntime.

    atelier export --format onnx --checkpoint CK --out model.onnx --example example.safetensors
    python3 scripts/check_onnx.py model.onnx example.safetensors

Runs onnx.checker (full check with shape inference), runs the model in onnxruntime on the
example's input and compares with atelier's output (fails above --tol, relative to the
output's largest magnitude), then runs it again at another batch size (and image size, for
dynamic heights and widths) to show the dynamic dimensions work. Needs onnx, onnxruntime,
numpy, safetensors.
"""

import argparse
import sys

import numpy as np
import onnx
import onnxruntime as ort
from safetensors.numpy import load_file


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("example")
    ap.add_argument("--tol", type=float, default=1e-4)
    a = ap.parse_args()

    model = onnx.load(a.model)
    onnx.checker.check_model(model, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    print(f"onnx.checker: ok (ir {model.ir_version}, opset {model.opset_import[0].version}, "
          f"{len(model.graph.node)} nodes, {len(model.graph.initializer)} initializers)")
    ops = sorted({n.op_type for n in model.graph.node})
    print("ops:", ", ".join(ops))
    dims = lambda v: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
    print("input", model.graph.input[0].name, dims(model.graph.input[0]),
          "output", model.graph.output[0].name, dims(inferred.graph.output[0]))

    ex = load_file(a.example)
    x, want = ex["input"], ex["output"]
    sess = ort.InferenceSession(a.model, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    got = sess.run(None, {name: x})[0]
    if got.shape != want.shape:
        sys.exit(f"shape {got.shape} from onnxruntime, {want.shape} from atelier")
    diff = float(np.abs(got - want).max())
    scale = float(np.abs(want).max())
    rel = diff / max(scale, 1e-30)
    print(f"onnxruntime {ort.__version__} vs atelier on input {list(x.shape)}: max |diff| "
          f"{diff:.3g}, output max |value| {scale:.3g}, relative {rel:.3g} (tolerance {a.tol})")

    # dynamic dims: another batch size, and for fully convolutional nets another image size
    shape = list(x.shape)
    shape[0] = shape[0] + 1
    if isinstance(dims(model.graph.input[0])[2], str):
        shape[2], shape[3] = shape[2] + 8, shape[3] - 4
    rng = np.random.default_rng(0)
    y = sess.run(None, {name: rng.uniform(x.min(), x.max(), shape).astype(np.float32)})[0]
    print(f"dynamic dims: input {shape} -> output {list(y.shape)}")
    if rel > a.tol:
        sys.exit(f"FAIL: relative difference {rel:.3g} > {a.tol}")
    print("PASS")


if __name__ == "__main__":
    main()
