#!/usr/bin/python3
"""Writes VGG8 for CIFAR-10 (NeuroSim's NetWork_VGG8: 6 conv + 2 FC, 12.97 M weights) as ONNX
with synthetic He-normal weights (tools/vgg8_model.py, seeded), for the network flow.

  /usr/bin/python3 tools/make_vgg8_onnx.py OUT.onnx [--seed 8]

The file is ~52 MB (float32 weights), so it is generated, never committed: the energy study
(tools/vgg8_energy.py) uses the same weights without the file. Input "input" [1,3,32,32],
output "logits" [1,10]; operators Conv, Relu, MaxPool, Flatten, Gemm (what platform/compiler maps).
"""
import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vgg8_model  # noqa: E402


def build(seed):
    ws, _ = vgg8_model.make_weights(seed)
    nodes, inits = [], []
    x = "input"
    for (name, kind, cin, cout, hw, k, pool), w in zip(vgg8_model.LAYERS, ws):
        inits.append(numpy_helper.from_array(w, name + ".weight"))
        inits.append(numpy_helper.from_array(np.zeros(cout, np.float32), name + ".bias"))
        if kind == "conv":
            nodes.append(helper.make_node("Conv", [x, name + ".weight", name + ".bias"], [name], name=name,
                                          kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]))
        else:
            if name == "fc1":
                nodes.append(helper.make_node("Flatten", [x], ["flat"], name="flatten", axis=1))
                x = "flat"
            nodes.append(helper.make_node("Gemm", [x, name + ".weight", name + ".bias"], [name], name=name, transB=1))
        x = name
        if name != "fc2":
            nodes.append(helper.make_node("Relu", [x], [name + ".relu"], name=name + "_relu"))
            x = name + ".relu"
        if pool:
            nodes.append(helper.make_node("MaxPool", [x], [name + ".pool"], name=name + "_pool",
                                          kernel_shape=[2, 2], strides=[2, 2]))
            x = name + ".pool"
    nodes.append(helper.make_node("Identity", [x], ["logits"], name="out"))
    g = helper.make_graph(nodes, "vgg8_cifar10_synthetic",
                          [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 32, 32])],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="cimvp tools/make_vgg8_onnx.py")
    onnx.checker.check_model(m)
    return m


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=8)
    a = ap.parse_args()
    onnx.save(build(a.seed), a.out)
    print("wrote %s (%.1f MB)" % (a.out, os.path.getsize(a.out) / 1e6))


if __name__ == "__main__":
    main()
