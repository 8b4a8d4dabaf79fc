#!/usr/bin/python3
"""Writes the small ONNX test models of tests/onnx/models/ with the ONNX library's own Python
helper API (onnx.helper, Debian's python3-onnx): models "from another tool than PyTorch" for
`cimvp infer --ideal` against the reference evaluator (tests/netrun/test_netrun_models.cpp).

  /usr/bin/python3 tools/make_test_onnx.py [--out tests/onnx/models]

Every model takes a dynamic batch "N", has seeded random weights (numpy, seed per model), is
checked with onnx.checker and covers a different opset between 6 and 17 and a different mix
of the operators and attributes the chip maps (docs/onnx.md, docs/network.md). Each file is a
few KB; they are committed, so the tests do not need Python. Rerunning the script rewrites
the same bytes.
"""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, checker, helper, numpy_helper

PRODUCER = "onnx.helper (tools/make_test_onnx.py)"


def inp(name, dims):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, ["N"] + list(dims))


def out(name, dims):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, ["N"] + list(dims))


class Model:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.inits = []

    def w(self, name, shape, scale=0.5):
        a = (self.rng.standard_normal(shape) * scale).astype(np.float32)
        self.inits.append(numpy_helper.from_array(a, name))
        return name

    def pos(self, name, shape, lo=0.5, hi=1.5):
        a = self.rng.uniform(lo, hi, shape).astype(np.float32)
        self.inits.append(numpy_helper.from_array(a, name))
        return name

    def i64(self, name, values):
        self.inits.append(numpy_helper.from_array(np.array(values, np.int64), name))
        return name

    def bn(self, name, x, c, y, **kw):
        return helper.make_node("BatchNormalization", [x, self.pos(name + ".g", [c]), self.w(name + ".b", [c]),
                                                       self.w(name + ".mean", [c]), self.pos(name + ".var", [c])],
                                [y], name=name, **kw)


def finish(name, opset, nodes, m, x, y, doc):
    g = helper.make_graph(nodes, name, [x], [y], initializer=m.inits)
    model = helper.make_model(g, producer_name=PRODUCER, opset_imports=[helper.make_opsetid("", opset)],
                              doc_string=doc)
    model.ir_version = 7 if opset < 15 else 8
    checker.check_model(model)
    return name, model


def o6_mlp_legacy():
    """Opset 6: Flatten, Gemm with the legacy broadcast attribute (C [N]), transB, alpha,
    beta, Relu, Add with legacy broadcast from axis 1, Softmax (opset < 13: axis 1 flattens)."""
    m = Model(6)
    nodes = [
        helper.make_node("Flatten", ["x"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", m.w("w1", [12, 8]), m.w("c1", [8])], ["h"], name="fc1", broadcast=1),
        helper.make_node("Relu", ["h"], ["hr"], name="relu1"),
        helper.make_node("Gemm", ["hr", m.w("w2", [5, 8]), m.w("c2", [5])], ["z"], name="fc2", broadcast=1,
                         transB=1, alpha=0.5, beta=2.0),
        helper.make_node("Add", ["z", m.w("k", [5])], ["zk"], name="bias_add", broadcast=1, axis=1),
        helper.make_node("Softmax", ["zk"], ["y"], name="softmax"),
    ]
    return finish("o6_mlp_legacy", 6, nodes, m, inp("x", [3, 2, 2]), out("y", [5]), o6_mlp_legacy.__doc__)


def o7_conv_bn_avgpool_pad():
    """Opset 7: Conv with pads, BatchNormalization, Relu, AveragePool with pads and
    count_include_pad=1, Flatten, Gemm (transB, alpha, beta)."""
    m = Model(7)
    nodes = [
        helper.make_node("Conv", ["x", m.w("w1", [4, 2, 3, 3]), m.w("b1", [4])], ["c"], name="conv1",
                         pads=[1, 1, 1, 1]),
        m.bn("bn1", "c", 4, "bn", epsilon=1e-3),
        helper.make_node("Relu", ["bn"], ["r"], name="relu1"),
        helper.make_node("AveragePool", ["r"], ["p"], name="avgpool", kernel_shape=[3, 3], strides=[2, 2],
                         pads=[1, 1, 1, 1], count_include_pad=1),
        helper.make_node("Flatten", ["p"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", m.w("w2", [6, 64], 0.3), m.w("c2", [6])], ["y"], name="fc", transB=1,
                         alpha=0.7, beta=1.5),
    ]
    return finish("o7_conv_bn_avgpool_pad", 7, nodes, m, inp("x", [2, 7, 7]), out("y", [6]), o7_conv_bn_avgpool_pad.__doc__)


def o10_dilated_avgpool_ceil():
    """Opset 10: dilated Conv, AveragePool with ceil_mode=1 and count_include_pad=0 (no ReLU:
    the next layer's inputs are signed), Reshape to [-1, F], MatMul, Add of a [1, N] constant."""
    m = Model(10)
    nodes = [
        helper.make_node("Conv", ["x", m.w("w1", [3, 1, 3, 3])], ["c"], name="conv_dil", dilations=[2, 2]),
        helper.make_node("AveragePool", ["c"], ["p"], name="avgpool_ceil", kernel_shape=[2, 2], strides=[2, 2],
                         ceil_mode=1),
        helper.make_node("Reshape", ["p", m.i64("shape", [-1, 27])], ["f"], name="reshape"),
        helper.make_node("MatMul", ["f", m.w("w2", [27, 4], 0.3)], ["z"], name="fc"),
        helper.make_node("Add", ["z", m.w("k", [1, 4])], ["y"], name="bias_add"),
    ]
    return finish("o10_dilated_avgpool_ceil", 10, nodes, m, inp("x", [1, 9, 10]), out("y", [4]),
                  o10_dilated_avgpool_ceil.__doc__)


def o11_same_stride2_gap_softmax():
    """Opset 11: Conv auto_pad SAME_UPPER stride 2, Relu, Conv auto_pad SAME_LOWER stride 2 with
    bias, GlobalAveragePool, Softmax axis 1 over [N, C, 1, 1]."""
    m = Model(11)
    nodes = [
        helper.make_node("Conv", ["x", m.w("w1", [4, 3, 3, 3])], ["c1"], name="conv_same_upper",
                         auto_pad="SAME_UPPER", strides=[2, 2]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", m.w("w2", [5, 4, 2, 2]), m.w("b2", [5])], ["c2"], name="conv_same_lower",
                         auto_pad="SAME_LOWER", strides=[2, 2]),
        helper.make_node("GlobalAveragePool", ["c2"], ["g"], name="gap"),
        helper.make_node("Softmax", ["g"], ["y"], name="softmax", axis=1),
    ]
    return finish("o11_same_stride2_gap_softmax", 11, nodes, m, inp("x", [3, 9, 8]), out("y", [5, 1, 1]),
                  o11_same_stride2_gap_softmax.__doc__)


def o13_residual_maxpool_ceil():
    """Opset 13: Conv, Relu, Conv, BatchNormalization, residual Add of the first block's
    output, Relu, MaxPool with ceil_mode=1 and pads, Flatten, Gemm transB, Softmax (axis -1)."""
    m = Model(13)
    nodes = [
        helper.make_node("Conv", ["x", m.w("w1", [4, 2, 3, 3]), m.w("b1", [4])], ["c1"], name="conv1",
                         pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["a"], name="relu1"),
        helper.make_node("Conv", ["a", m.w("w2", [4, 4, 3, 3], 0.3)], ["c2"], name="conv2", pads=[1, 1, 1, 1]),
        m.bn("bn2", "c2", 4, "b2"),
        helper.make_node("Add", ["b2", "a"], ["s"], name="residual_add"),
        helper.make_node("Relu", ["s"], ["r"], name="relu2"),
        helper.make_node("MaxPool", ["r"], ["p"], name="maxpool_ceil", kernel_shape=[3, 3], strides=[2, 2],
                         pads=[1, 1, 0, 0], ceil_mode=1),
        helper.make_node("Flatten", ["p"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", m.w("w3", [5, 64], 0.3), m.w("c3", [5])], ["z"], name="fc", transB=1),
        helper.make_node("Softmax", ["z"], ["y"], name="softmax"),
    ]
    return finish("o13_residual_maxpool_ceil", 13, nodes, m, inp("x", [2, 7, 7]), out("y", [5]),
                  o13_residual_maxpool_ceil.__doc__)


def o17_gemm_dropout_softmax():
    """Opset 17: Gemm with alpha, beta and a [1, N] C, Dropout (inference), Relu, Gemm without
    C, Identity, Softmax over axis 1 of [N, X]."""
    m = Model(17)
    nodes = [
        helper.make_node("Gemm", ["x", m.w("w1", [10, 6]), m.w("c1", [1, 6])], ["h"], name="fc1", alpha=2.0,
                         beta=0.5),
        helper.make_node("Dropout", ["h"], ["hd"], name="dropout"),
        helper.make_node("Relu", ["hd"], ["hr"], name="relu"),
        helper.make_node("Gemm", ["hr", m.w("w2", [4, 6])], ["z"], name="fc2", transB=1),
        helper.make_node("Identity", ["z"], ["zi"], name="identity"),
        helper.make_node("Softmax", ["zi"], ["y"], name="softmax", axis=1),
    ]
    return finish("o17_gemm_dropout_softmax", 17, nodes, m, inp("x", [10]), out("y", [4]), o17_gemm_dropout_softmax.__doc__)


MODELS = [o6_mlp_legacy, o7_conv_bn_avgpool_pad, o10_dilated_avgpool_ceil, o11_same_stride2_gap_softmax,
          o13_residual_maxpool_ceil, o17_gemm_dropout_softmax]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "onnx",
                                                  "models"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for make in MODELS:
        name, model = make()
        path = os.path.normpath(os.path.join(args.out, name + ".onnx"))
        onnx.save(model, path)
        print(f"{path}: opset {model.opset_import[0].version}, {len(model.graph.node)} nodes, "
              f"{os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
