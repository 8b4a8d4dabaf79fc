// Operator semantics of the importer + reference evaluator against hand-computed cases
// (values worked out on paper from the ONNX operator specification).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "platform/onnx/evaluator.hpp"
#include "platform/onnx/onnx_import.hpp"
#include "tests/onnx/model_builder.hpp"

#include <cmath>
#include <numeric>

using namespace cimvp::nn;
using cimvp::nn::test::ModelBuilder;

namespace {

std::vector<float> iota(size_t n, float start = 0.0f) {
  std::vector<float> v(n);
  std::iota(v.begin(), v.end(), start);
  return v;
}

// Single-node model: input "x" of `xshape`, output "y"; `setup` adds attributes/initialisers.
template <typename F>
Tensor run1(int64_t opset, const std::string& op, const Tensor& x, std::vector<std::string> extra_inputs, F setup,
            std::vector<std::string> outs = {"y"}) {
  ModelBuilder b(opset);
  b.input("x", x.shape);
  std::vector<std::string> ins{"x"};
  ins.insert(ins.end(), extra_inputs.begin(), extra_inputs.end());
  onnx::NodeProto* n = b.node(op, ins, outs, "n0");
  setup(b, n);
  for (const auto& o : outs) b.output(o);
  Graph g = b.load();
  return evaluate(g, {{"x", x}}).at(outs.back());
}

void check(const Tensor& t, const Shape& shape, const std::vector<float>& expect, float tol = 1e-6f) {
  REQUIRE(t.shape == shape);
  REQUIRE(t.data.size() == expect.size());
  for (size_t i = 0; i < expect.size(); ++i) {
    INFO("element " << i);
    CHECK(t.data[i] == Approx(expect[i]).margin(tol));
  }
}

const Tensor x3x3({1, 1, 3, 3}, iota(9, 1.0f));  // 1..9

}  // namespace

TEST_CASE("Conv: plain, bias, pads, strides, dilations", "[onnx][conv]") {
  auto ones = [](ModelBuilder& b, const std::vector<int64_t>& k, float bias) {
    int64_t kn = 1;
    for (auto d : k) kn *= d;
    std::vector<int64_t> ws{1, 1};
    ws.insert(ws.end(), k.begin(), k.end());
    b.init("w", ws, std::vector<float>(static_cast<size_t>(kn), 1.0f)).init("b", {1}, {bias});
  };
  // 2x2 box sum + 10 over 1..9.
  check(run1(13, "Conv", x3x3, {"w", "b"}, [&](ModelBuilder& b, onnx::NodeProto*) { ones(b, {2, 2}, 10.0f); }),
        {1, 1, 2, 2}, {22, 26, 34, 38});
  // pads=1, strides=2, 3x3 kernel: out = (3+2-3)/2+1 = 2; corners sum the 2x2 blocks.
  check(run1(11, "Conv", x3x3, {"w", "b"}, [&](ModelBuilder& b, onnx::NodeProto* n) {
          ones(b, {3, 3}, 0.0f);
          ModelBuilder::attr(n, "pads", std::vector<int64_t>{1, 1, 1, 1});
          ModelBuilder::attr(n, "strides", std::vector<int64_t>{2, 2});
          ModelBuilder::attr(n, "kernel_shape", std::vector<int64_t>{3, 3});
        }),
        {1, 1, 2, 2}, {12, 16, 24, 28});
  // dilations=2 on a 4x4 ramp r*4+c: taps (0,0),(0,2),(2,0),(2,2).
  check(run1(9, "Conv", Tensor({1, 1, 4, 4}, iota(16)), {"w"}, [&](ModelBuilder& b, onnx::NodeProto* n) {
          ones(b, {2, 2}, 0.0f);
          ModelBuilder::attr(n, "dilations", std::vector<int64_t>{2, 2});
        }),
        {1, 1, 2, 2}, {20, 24, 36, 40});
  // Asymmetric pads (top=1, left=0, bottom=0, right=1).
  check(run1(13, "Conv", x3x3, {"w"}, [&](ModelBuilder& b, onnx::NodeProto* n) {
          ones(b, {2, 2}, 0.0f);
          ModelBuilder::attr(n, "pads", std::vector<int64_t>{1, 0, 0, 1});
        }),
        {1, 1, 3, 3}, {3, 5, 3, 12, 16, 9, 24, 28, 15});
}

TEST_CASE("Conv: auto_pad SAME_UPPER, SAME_LOWER, VALID", "[onnx][conv]") {
  auto run = [&](const std::string& ap) {
    return run1(13, "Conv", x3x3, {"w"}, [&](ModelBuilder& b, onnx::NodeProto* n) {
      b.init("w", {1, 1, 2, 2}, {1, 1, 1, 1});
      ModelBuilder::attr(n, "auto_pad", ap);
    });
  };
  // Total pad 1 per axis: SAME_UPPER puts it at the end, SAME_LOWER at the start.
  check(run("SAME_UPPER"), {1, 1, 3, 3}, {12, 16, 9, 24, 28, 15, 15, 17, 9});
  check(run("SAME_LOWER"), {1, 1, 3, 3}, {1, 3, 5, 5, 12, 16, 11, 24, 28});
  check(run("VALID"), {1, 1, 2, 2}, {12, 16, 24, 28});
  REQUIRE_THROWS_WITH(run("SAME"), Catch::Contains("n0") && Catch::Contains("auto_pad"));
}

TEST_CASE("Conv: auto_pad SAME_UPPER / SAME_LOWER with stride 2", "[onnx][conv]") {
  auto run = [&](const std::string& ap) {
    return run1(13, "Conv", x3x3, {"w"}, [&](ModelBuilder& b, onnx::NodeProto* n) {
      b.init("w", {1, 1, 2, 2}, {1, 1, 1, 1});
      ModelBuilder::attr(n, "auto_pad", ap);
      ModelBuilder::attr(n, "strides", std::vector<int64_t>{2, 2});
    });
  };
  // out = ceil(3 / 2) = 2, total pad = (2 - 1) * 2 + 2 - 3 = 1 per axis. SAME_UPPER: windows
  // at rows/cols {0, 2}, the pad after: [1+2+4+5, 3+6; 7+8, 9].
  check(run("SAME_UPPER"), {1, 1, 2, 2}, {12, 9, 15, 9});
  // SAME_LOWER: the pad before, windows at {-1, 1}: [1, 2+3; 4+7, 5+6+8+9].
  check(run("SAME_LOWER"), {1, 1, 2, 2}, {1, 5, 11, 28});
}

TEST_CASE("Conv: channels, 1-D, batch, group rejected", "[onnx][conv]") {
  // 2 input channels (all 1, all 2) x 1x1 kernels -> out0 = 3*1+4*2, out1 = -1*1+0.5*2.
  Tensor x({2, 2, 2, 2}, {1, 1, 1, 1, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 1, 1});
  check(run1(13, "Conv", x, {"w"}, [](ModelBuilder& b, onnx::NodeProto*) {
          b.init("w", {2, 2, 1, 1}, {3, 4, -1, 0.5f});
        }),
        {2, 2, 2, 2}, {11, 11, 11, 11, 0, 0, 0, 0, 4, 4, 4, 4, 0.5f, 0.5f, 0.5f, 0.5f});
  // 1-D: y[i] = x[i-1] - x[i+1] with zero padding.
  check(run1(13, "Conv", Tensor({1, 1, 5}, iota(5, 1.0f)), {"w"}, [](ModelBuilder& b, onnx::NodeProto* n) {
          b.init("w", {1, 1, 3}, {1, 0, -1});
          ModelBuilder::attr(n, "pads", std::vector<int64_t>{1, 1});
        }),
        {1, 1, 5}, {-2, -2, -2, -2, 4});
  REQUIRE_THROWS_WITH(run1(13, "Conv", Tensor({1, 2, 3, 3}), {"w"}, [](ModelBuilder& b, onnx::NodeProto* n) {
                        b.init("w", {2, 1, 1, 1}, {1, 1});
                        ModelBuilder::attr(n, "group", int64_t{2});
                      }),
                      Catch::Contains("test.onnx") && Catch::Contains("'n0'") && Catch::Contains("Conv") &&
                          Catch::Contains("'group'"));
  // Channel mismatch between input and weight is a shape error naming node and tensors.
  REQUIRE_THROWS_WITH(run1(13, "Conv", Tensor({1, 3, 3, 3}), {"w"}, [](ModelBuilder& b, onnx::NodeProto*) {
                        b.init("w", {1, 2, 1, 1}, {1, 1});
                      }),
                      Catch::Contains("'n0'") && Catch::Contains("'w'") && Catch::Contains("'x'"));
}

TEST_CASE("Gemm: alpha, beta, transA, transB, C broadcast, optional C", "[onnx][gemm]") {
  // A=[[1,2,3],[4,5,6]], B=[[1,0],[0,1],[1,1]] -> AB=[[4,5],[10,11]]; 2*AB + 0.5*[1,2].
  const std::vector<float> expect{8.5f, 11, 20.5f, 23};
  Tensor A({2, 3}, {1, 2, 3, 4, 5, 6}), At({3, 2}, {1, 4, 2, 5, 3, 6});
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb) {
      INFO("transA=" << ta << " transB=" << tb);
      check(run1(13, "Gemm", ta ? At : A, {"B", "C"}, [&](ModelBuilder& b, onnx::NodeProto* n) {
              if (tb) b.init("B", {2, 3}, {1, 0, 1, 0, 1, 1}); else b.init("B", {3, 2}, {1, 0, 0, 1, 1, 1});
              b.init("C", {2}, {1, 2});
              ModelBuilder::attr_f(n, "alpha", 2.0f);
              ModelBuilder::attr_f(n, "beta", 0.5f);
              ModelBuilder::attr(n, "transA", int64_t{ta});
              ModelBuilder::attr(n, "transB", int64_t{tb});
            }),
            {2, 2}, expect);
    }
  // C of shape [2,1] broadcasts along columns; C omitted (opset 11+).
  check(run1(13, "Gemm", A, {"B", "C"}, [](ModelBuilder& b, onnx::NodeProto*) {
          b.init("B", {3, 2}, {1, 0, 0, 1, 1, 1}).init("C", {2, 1}, {100, 200});
        }),
        {2, 2}, {104, 105, 210, 211});
  check(run1(11, "Gemm", A, {"B"}, [](ModelBuilder& b, onnx::NodeProto*) { b.init("B", {3, 2}, {1, 0, 0, 1, 1, 1}); }),
        {2, 2}, {4, 5, 10, 11});
  // Opset 6 requires C and knows the legacy 'broadcast' attribute.
  REQUIRE_THROWS_WITH(run1(6, "Gemm", A, {"B"}, [](ModelBuilder& b, onnx::NodeProto*) {
                        b.init("B", {3, 2}, {1, 0, 0, 1, 1, 1});
                      }),
                      Catch::Contains("'n0'") && Catch::Contains("inputs"));
  check(run1(6, "Gemm", A, {"B", "C"}, [](ModelBuilder& b, onnx::NodeProto* n) {
          b.init("B", {3, 2}, {1, 0, 0, 1, 1, 1}).init("C", {2}, {1, 2});
          ModelBuilder::attr(n, "broadcast", int64_t{1});
        }),
        {2, 2}, {5, 7, 11, 13});
  REQUIRE_THROWS_WITH(run1(6, "Gemm", A, {"B", "C"}, [](ModelBuilder& b, onnx::NodeProto*) {
                        b.init("B", {3, 2}, {1, 0, 0, 1, 1, 1}).init("C", {2}, {1, 2});
                      }),
                      Catch::Contains("'n0'") && Catch::Contains("'C'"));
  // 'broadcast' no longer exists at opset 7+.
  REQUIRE_THROWS_WITH(run1(13, "Gemm", A, {"B"}, [](ModelBuilder& b, onnx::NodeProto* n) {
                        b.init("B", {3, 2}, {1, 0, 0, 1, 1, 1});
                        ModelBuilder::attr(n, "broadcast", int64_t{1});
                      }),
                      Catch::Contains("'n0'") && Catch::Contains("Gemm") && Catch::Contains("'broadcast'"));
  REQUIRE_THROWS_WITH(run1(13, "Gemm", A, {"B"}, [](ModelBuilder& b, onnx::NodeProto*) { b.init("B", {2, 2}, {1, 0, 0, 1}); }),
                      Catch::Contains("'n0'") && Catch::Contains("inner"));
}

TEST_CASE("MatMul: batched broadcast and 1-D promotion", "[onnx][matmul]") {
  Tensor a({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  check(run1(13, "MatMul", a, {"B"}, [](ModelBuilder& b, onnx::NodeProto*) { b.init("B", {2, 2}, {1, 1, 0, 1}); }),
        {2, 2, 2}, {1, 3, 3, 7, 5, 11, 7, 15});
  check(run1(9, "MatMul", Tensor({2}, {1, 2}), {"B"}, [](ModelBuilder& b, onnx::NodeProto*) {
          b.init("B", {2, 2}, {1, 1, 0, 1});
        }),
        {2}, {1, 3});
  check(run1(9, "MatMul", Tensor({2, 2}, {1, 2, 3, 4}), {"B"}, [](ModelBuilder& b, onnx::NodeProto*) {
          b.init("B", {2}, {1, -1});
        }),
        {2}, {-1, -1});
}

TEST_CASE("Relu, Identity, Dropout (inference), Constant", "[onnx][simple]") {
  Tensor x({4}, {-2, -0.5f, 0, 3});
  check(run1(6, "Relu", x, {}, [](ModelBuilder&, onnx::NodeProto*) {}), {4}, {0, 0, 0, 3});
  check(run1(13, "Identity", x, {}, [](ModelBuilder&, onnx::NodeProto*) {}), {4}, {-2, -0.5f, 0, 3});
  check(run1(7, "Dropout", x, {}, [](ModelBuilder&, onnx::NodeProto* n) { ModelBuilder::attr_f(n, "ratio", 0.5f); }),
        {4}, {-2, -0.5f, 0, 3});
  check(run1(6, "Dropout", x, {}, [](ModelBuilder&, onnx::NodeProto* n) { ModelBuilder::attr(n, "is_test", int64_t{1}); },
             {"y", "mask"}),
        {4}, {1, 1, 1, 1});
  // Constant (value_floats, opset 12+) feeding an Add.
  ModelBuilder b(13);
  b.input("x", {4});
  auto* c = b.node("Constant", {}, {"k"}, "const");
  auto* a = c->add_attribute();
  a->set_name("value_floats");
  a->set_type(onnx::AttributeProto::FLOATS);
  for (float v : {1.f, 2.f, 3.f, 4.f}) a->add_floats(v);
  b.node("Add", {"x", "k"}, {"y"}, "add");
  b.output("y");
  Graph g = b.load();
  CHECK(g.nodes.size() == 1);
  REQUIRE(g.initializer("k") != nullptr);
  check(evaluate(g, x), {4}, {-1, 1.5f, 3, 7});
}

TEST_CASE("MaxPool: strides, storage_order indices, ceil_mode, dilations, pads, auto_pad", "[onnx][pool]") {
  Tensor r4({1, 1, 4, 4}, iota(16));
  auto mp = [&](const Tensor& x, std::function<void(onnx::NodeProto*)> f, int64_t opset = 13,
                std::vector<std::string> outs = {"y"}) {
    return run1(opset, "MaxPool", x, {}, [&](ModelBuilder&, onnx::NodeProto* n) { f(n); }, outs);
  };
  auto k2s2 = [](onnx::NodeProto* n) {
    ModelBuilder::attr(n, "kernel_shape", std::vector<int64_t>{2, 2});
    ModelBuilder::attr(n, "strides", std::vector<int64_t>{2, 2});
  };
  check(mp(r4, k2s2), {1, 1, 2, 2}, {5, 7, 13, 15});
  // Indices: row-major flat index; storage_order=1 numbers the spatial plane column-major.
  check(mp(r4, k2s2, 13, {"y", "i"}), {1, 1, 2, 2}, {5, 7, 13, 15});
  check(mp(r4, [&](onnx::NodeProto* n) { k2s2(n); ModelBuilder::attr(n, "storage_order", int64_t{1}); }, 13, {"y", "i"}),
        {1, 1, 2, 2}, {5, 13, 7, 15});
  // 5x5 ramp: floor -> 2x2; ceil_mode -> 3x3 with partial last windows.
  Tensor r5({1, 1, 5, 5}, iota(25));
  check(mp(r5, k2s2), {1, 1, 2, 2}, {6, 8, 16, 18});
  check(mp(r5, [&](onnx::NodeProto* n) { k2s2(n); ModelBuilder::attr(n, "ceil_mode", int64_t{1}); }),
        {1, 1, 3, 3}, {6, 8, 9, 16, 18, 19, 21, 23, 24});
  // ceil_mode drops a window that would start in the end padding: in=4, k=2, s=2, pad_end=1.
  check(mp(Tensor({1, 1, 4}, {1, 2, 3, 4}), [](onnx::NodeProto* n) {
          ModelBuilder::attr(n, "kernel_shape", std::vector<int64_t>{2});
          ModelBuilder::attr(n, "strides", std::vector<int64_t>{2});
          ModelBuilder::attr(n, "pads", std::vector<int64_t>{0, 1});
          ModelBuilder::attr(n, "ceil_mode", int64_t{1});
        }),
        {1, 1, 2}, {2, 4});
  // dilations=2: windows (0,2), (1,3), (2,4).
  check(mp(Tensor({1, 1, 5}, {1, 5, 2, 4, 3}), [](onnx::NodeProto* n) {
          ModelBuilder::attr(n, "kernel_shape", std::vector<int64_t>{2});
          ModelBuilder::attr(n, "dilations", std::vector<int64_t>{2});
        }),
        {1, 1, 3}, {2, 5, 3});
  // Padding never wins a max (negative inputs).
  check(mp(Tensor({1, 1, 3}, {-1, -2, -3}), [](onnx::NodeProto* n) {
          ModelBuilder::attr(n, "kernel_shape", std::vector<int64_t>{2});
          ModelBuilder::attr(n, "pads", std::vector<int64_t>{1, 1});
        }),
        {1, 1, 4}, {-1, -1, -2, -3});
  Tensor v({1, 1, 4}, {1, 3, 2, 4});
  auto same = [&](const std::string& ap) {
    return mp(v, [&](onnx::NodeProto* n) {
      ModelBuilder::attr(n, "kernel_shape", std::vector<int64_t>{2});
      ModelBuilder::attr(n, "auto_pad", ap);
    });
  };
  check(same("SAME_UPPER"), {1, 1, 4}, {3, 3, 4, 4});
  check(same("SAME_LOWER"), {1, 1, 4}, {1, 3, 3, 4});
  check(same("VALID"), {1, 1, 3}, {3, 3, 4});
  // ceil_mode and dilations arrived in opset 10.
  REQUIRE_THROWS_WITH(mp(r4, [&](onnx::NodeProto* n) { k2s2(n); ModelBuilder::attr(n, "ceil_mode", int64_t{1}); }, 9),
                      Catch::Contains("'n0'") && Catch::Contains("MaxPool") && Catch::Contains("'ceil_mode'"));
  REQUIRE_THROWS_WITH(mp(r4, [](onnx::NodeProto*) {}), Catch::Contains("'n0'") && Catch::Contains("'kernel_shape'"));
}

TEST_CASE("AveragePool: count_include_pad, ceil_mode, GlobalAveragePool", "[onnx][pool]") {
  auto ap = [&](const Tensor& x, std::function<void(onnx::NodeProto*)> f, int64_t opset = 13) {
    return run1(opset, "AveragePool", x, {}, [&](ModelBuilder&, onnx::NodeProto* n) { f(n); });
  };
  check(ap(Tensor({1, 1, 4, 4}, iota(16)), [](onnx::NodeProto* n) {
          ModelBuilder::attr(n, "kernel_shape", std::vector<int64_t>{2, 2});
          ModelBuilder::attr(n, "strides", std::vector<int64_t>{2, 2});
        }),
        {1, 1, 2, 2}, {2.5f, 4.5f, 10.5f, 12.5f});
  Tensor x({1, 1, 3}, {1, 2, 3});
  auto padded = [&](int64_t include) {
    return ap(x, [&](onnx::NodeProto* n) {
      ModelBuilder::attr(n, "kernel_shape", std::vector<int64_t>{2});
      ModelBuilder::attr(n, "pads", std::vector<int64_t>{1, 1});
      ModelBuilder::attr(n, "count_include_pad", include);
    });
  };
  check(padded(0), {1, 1, 4}, {1, 1.5f, 2.5f, 3});
  check(padded(1), {1, 1, 4}, {0.5f, 1.5f, 2.5f, 1.5f});
  // ceil_mode overhang is not padding: the last window [5] averages to 5 even with
  // count_include_pad=1.
  check(ap(Tensor({1, 1, 5}, iota(5, 1.0f)), [](onnx::NodeProto* n) {
          ModelBuilder::attr(n, "kernel_shape", std::vector<int64_t>{2});
          ModelBuilder::attr(n, "strides", std::vector<int64_t>{2});
          ModelBuilder::attr(n, "ceil_mode", int64_t{1});
          ModelBuilder::attr(n, "count_include_pad", int64_t{1});
        }),
        {1, 1, 3}, {1.5f, 3.5f, 5});
  // AveragePool has no dilations before opset 19.
  REQUIRE_THROWS_WITH(ap(x, [](onnx::NodeProto* n) {
                        ModelBuilder::attr(n, "kernel_shape", std::vector<int64_t>{2});
                        ModelBuilder::attr(n, "dilations", std::vector<int64_t>{2});
                      }, 17),
                      Catch::Contains("'n0'") && Catch::Contains("AveragePool") && Catch::Contains("'dilations'"));
  // count_include_pad arrived in opset 7.
  REQUIRE_THROWS_WITH(ap(x, [](onnx::NodeProto* n) {
                        ModelBuilder::attr(n, "kernel_shape", std::vector<int64_t>{2});
                        ModelBuilder::attr(n, "count_include_pad", int64_t{1});
                      }, 6),
                      Catch::Contains("'count_include_pad'"));
  // auto_pad on 1..9, 2x2 windows. SAME_UPPER (stride 1): pad after; the edge windows average
  // their real elements, or with count_include_pad all 4 taps (the auto pads count as padding).
  auto same = [&](const std::string& mode, int64_t include, int64_t stride = 1) {
    return ap(x3x3, [&](onnx::NodeProto* n) {
      ModelBuilder::attr(n, "kernel_shape", std::vector<int64_t>{2, 2});
      ModelBuilder::attr(n, "auto_pad", mode);
      ModelBuilder::attr(n, "strides", std::vector<int64_t>{stride, stride});
      ModelBuilder::attr(n, "count_include_pad", include);
    });
  };
  check(same("SAME_UPPER", 0), {1, 1, 3, 3}, {3, 4, 4.5f, 6, 7, 7.5f, 7.5f, 8.5f, 9});
  check(same("SAME_UPPER", 1), {1, 1, 3, 3}, {3, 4, 2.25f, 6, 7, 3.75f, 3.75f, 4.25f, 2.25f});
  // SAME_LOWER: pad before.
  check(same("SAME_LOWER", 0), {1, 1, 3, 3}, {1, 1.5f, 2.5f, 2.5f, 3, 4, 5.5f, 6, 7});
  check(same("SAME_LOWER", 1), {1, 1, 3, 3}, {0.25f, 0.75f, 1.25f, 1.25f, 3, 4, 2.75f, 6, 7});
  check(same("VALID", 0), {1, 1, 2, 2}, {3, 4, 6, 7});
  // Stride 2, SAME_UPPER: out 2x2, one pad after: [1,2,4,5], [3,6], [7,8], [9].
  check(same("SAME_UPPER", 0, 2), {1, 1, 2, 2}, {3, 4.5f, 7.5f, 9});
  check(same("SAME_UPPER", 1, 2), {1, 1, 2, 2}, {3, 2.25f, 3.75f, 2.25f});
  check(run1(13, "GlobalAveragePool", Tensor({1, 2, 2, 2}, {1, 2, 3, 4, 10, 10, 10, 30}), {},
             [](ModelBuilder&, onnx::NodeProto*) {}),
        {1, 2, 1, 1}, {2.5f, 15});
}

TEST_CASE("Flatten axis and Reshape 0 / -1 / allowzero", "[onnx][shape]") {
  Tensor x({2, 3, 4}, iota(24));
  auto flat = [&](int64_t axis, int64_t opset = 13) {
    return run1(opset, "Flatten", x, {}, [&](ModelBuilder&, onnx::NodeProto* n) { ModelBuilder::attr(n, "axis", axis); });
  };
  CHECK(flat(0).shape == Shape{1, 24});
  CHECK(flat(2).shape == Shape{6, 4});
  CHECK(flat(-1).shape == Shape{6, 4});
  CHECK(flat(3).shape == Shape{24, 1});
  CHECK(flat(1).data == x.data);
  REQUIRE_THROWS_WITH(flat(4), Catch::Contains("'n0'") && Catch::Contains("'axis'"));
  auto reshape = [&](const Tensor& in, std::vector<int64_t> s, int64_t allowzero = -1, int64_t opset = 14) {
    return run1(opset, "Reshape", in, {"s"}, [&](ModelBuilder& b, onnx::NodeProto* n) {
      b.init_i64("s", s);
      if (allowzero >= 0) ModelBuilder::attr(n, "allowzero", allowzero);
    });
  };
  CHECK(reshape(x, {0, -1}).shape == Shape{2, 12});
  CHECK(reshape(x, {-1, 4}).shape == Shape{6, 4});
  CHECK(reshape(x, {4, 0, 2}).shape == Shape{4, 3, 2});
  CHECK(reshape(x, {0, -1}).data == x.data);
  Tensor row({1, 24}, iota(24));
  CHECK(reshape(row, {0, 24}, 0).shape == Shape{1, 24});
  REQUIRE_THROWS_WITH(reshape(row, {0, 24}, 1), Catch::Contains("'n0'") && Catch::Contains("reshape"));
  REQUIRE_THROWS_WITH(reshape(x, {-1, -1}), Catch::Contains("more than one -1"));
  REQUIRE_THROWS_WITH(reshape(x, {5, -1}), Catch::Contains("'n0'") && Catch::Contains("[2,3,4]"));
  REQUIRE_THROWS_WITH(reshape(x, {0, -1}, 1, 13), Catch::Contains("'allowzero'"));
}

TEST_CASE("Add: numpy broadcasting and opset-6 legacy broadcast", "[onnx][add]") {
  auto add = [&](int64_t opset, const Tensor& a, const Shape& bs, const std::vector<float>& bv,
                 std::function<void(onnx::NodeProto*)> f = [](onnx::NodeProto*) {}) {
    return run1(opset, "Add", a, {"b"}, [&](ModelBuilder& b, onnx::NodeProto* n) { b.init("b", bs, bv); f(n); });
  };
  check(add(13, Tensor({2, 3}, iota(6)), {3}, {10, 20, 30}), {2, 3}, {10, 21, 32, 13, 24, 35});
  check(add(13, Tensor({2, 1}, {1, 2}), {1, 3}, {10, 20, 30}), {2, 3}, {11, 21, 31, 12, 22, 32});
  REQUIRE_THROWS_WITH(add(13, Tensor({2, 3}), {2}, {1, 2}), Catch::Contains("'n0'") && Catch::Contains("broadcast"));
  // Opset 6: B aligned at axis=1 of A [2,3,2]; without axis, suffix alignment.
  check(add(6, Tensor({2, 3, 2}), {3}, {1, 2, 3}, [](onnx::NodeProto* n) {
          ModelBuilder::attr(n, "broadcast", int64_t{1});
          ModelBuilder::attr(n, "axis", int64_t{1});
        }),
        {2, 3, 2}, {1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3});
  check(add(6, Tensor({2, 2}), {2}, {5, 6}, [](onnx::NodeProto* n) { ModelBuilder::attr(n, "broadcast", int64_t{1}); }),
        {2, 2}, {5, 6, 5, 6});
  REQUIRE_THROWS_WITH(add(6, Tensor({2, 2}), {2}, {5, 6}), Catch::Contains("'n0'") && Catch::Contains("'broadcast'"));
}

TEST_CASE("BatchNormalization (inference), spatial=0 before opset 9, training rejected", "[onnx][bn]") {
  Tensor x({1, 2, 1, 2}, {3, 5, 2, 3});
  auto bn = [&](int64_t opset, const Shape& ps, std::function<void(onnx::NodeProto*)> f) {
    return run1(opset, "BatchNormalization", x, {"s", "b", "m", "v"}, [&](ModelBuilder& b, onnx::NodeProto* n) {
      int64_t k = numel(ps);
      auto rep = [&](float a, float c) {
        std::vector<float> v(static_cast<size_t>(k));
        for (int64_t i = 0; i < k; ++i) v[i] = i < k / 2 ? a : c;
        return v;
      };
      b.init("s", ps, rep(1, 2)).init("b", ps, rep(0, 1)).init("m", ps, rep(1, 2)).init("v", ps, rep(4, 0.25f));
      ModelBuilder::attr_f(n, "epsilon", 0.0f);
      f(n);
    });
  };
  // ch0: (x-1)/2; ch1: (x-2)/0.5*2+1.
  check(bn(15, {2}, [](onnx::NodeProto*) {}), {1, 2, 1, 2}, {1, 2, 1, 5});
  check(bn(7, {2, 1, 2}, [](onnx::NodeProto* n) { ModelBuilder::attr(n, "spatial", int64_t{0}); }), {1, 2, 1, 2},
        {1, 2, 1, 5});
  REQUIRE_THROWS_WITH(bn(15, {2}, [](onnx::NodeProto* n) { ModelBuilder::attr(n, "training_mode", int64_t{1}); }),
                      Catch::Contains("'n0'") && Catch::Contains("BatchNormalization") &&
                          Catch::Contains("'training_mode'"));
  REQUIRE_THROWS_WITH(bn(9, {2}, [](onnx::NodeProto* n) { ModelBuilder::attr(n, "spatial", int64_t{0}); }),
                      Catch::Contains("'spatial'"));
}

TEST_CASE("Softmax axis semantics differ before and after opset 13", "[onnx][softmax]") {
  // [[0, ln3], [ln2, ln2]] as [1,2,2].
  Tensor x({1, 2, 2}, {0, std::log(3.0f), std::log(2.0f), std::log(2.0f)});
  auto sm = [&](int64_t opset, int64_t axis = 99) {
    return run1(opset, "Softmax", x, {}, [&](ModelBuilder&, onnx::NodeProto* n) {
      if (axis != 99) ModelBuilder::attr(n, "axis", axis);
    });
  };
  // Opset 11 default axis=1 flattens [2,2] into one row of 4: exp = 1,3,2,2 over 8.
  check(sm(11), {1, 2, 2}, {0.125f, 0.375f, 0.25f, 0.25f});
  // Opset 13 default axis=-1: each row of 2 separately.
  check(sm(13), {1, 2, 2}, {0.25f, 0.75f, 0.5f, 0.5f});
  // Same explicit axis=1, different meaning: opset 13 normalises along dim 1 only.
  check(sm(13, 1), {1, 2, 2}, {1.0f / 3, 0.6f, 2.0f / 3, 0.4f});
  check(sm(6, 2), {1, 2, 2}, {0.25f, 0.75f, 0.5f, 0.5f});
  check(sm(11, -1), {1, 2, 2}, {0.25f, 0.75f, 0.5f, 0.5f});
  REQUIRE_THROWS_WITH(sm(13, 3), Catch::Contains("'n0'") && Catch::Contains("'axis'"));
  // Negative axis -2 at opset 13 = axis 1.
  check(sm(13, -2), {1, 2, 2}, {1.0f / 3, 0.6f, 2.0f / 3, 0.4f});
  // axis 0 normalises across the batch: a batch of one gives all ones (opset 13), and at
  // opset 11 one row of all 4 values.
  check(sm(13, 0), {1, 2, 2}, {1, 1, 1, 1});
  check(sm(11, 0), {1, 2, 2}, {0.125f, 0.375f, 0.25f, 0.25f});
  // 4-D [1, 2, 1, 2], axis 1 (channels) at opset 13: per position over the 2 channels:
  // position 0: exp(0), exp(ln2) -> 1/3, 2/3; position 1: exp(ln3), exp(ln2) -> 0.6, 0.4.
  Tensor x4({1, 2, 1, 2}, {0, std::log(3.0f), std::log(2.0f), std::log(2.0f)});
  check(run1(13, "Softmax", x4, {}, [](ModelBuilder&, onnx::NodeProto* n) { ModelBuilder::attr(n, "axis", int64_t{1}); }),
        {1, 2, 1, 2}, {1.0f / 3, 0.6f, 2.0f / 3, 0.4f});
  // The same at opset 9 (axis 1 flattens C*H*W = 4 into one row).
  check(run1(9, "Softmax", x4, {}, [](ModelBuilder&, onnx::NodeProto* n) { ModelBuilder::attr(n, "axis", int64_t{1}); }),
        {1, 2, 1, 2}, {0.125f, 0.375f, 0.25f, 0.25f});
}

TEST_CASE("Shape inference with dynamic batch", "[onnx][shape]") {
  ModelBuilder b(13);
  b.input("x", {-1, 1, 6, 6});
  b.init("w", {4, 1, 3, 3}, std::vector<float>(36, 0.1f)).init("fw", {3, 16}, std::vector<float>(48, 1.0f));
  b.node("Conv", {"x", "w"}, {"c"}, "conv");
  auto* mp = b.node("MaxPool", {"c"}, {"p"}, "pool");
  ModelBuilder::attr(mp, "kernel_shape", std::vector<int64_t>{2, 2});
  ModelBuilder::attr(mp, "strides", std::vector<int64_t>{2, 2});
  b.node("Flatten", {"p"}, {"f"}, "flat");
  auto* gm = b.node("Gemm", {"f", "fw"}, {"y"}, "fc");
  ModelBuilder::attr(gm, "transB", int64_t{1});
  b.output("y");
  Graph g = b.load();
  auto s = infer_shapes(g, {{"x", {5, 1, 6, 6}}});
  CHECK(s.at("c") == Shape{5, 4, 4, 4});
  CHECK(s.at("p") == Shape{5, 4, 2, 2});
  CHECK(s.at("f") == Shape{5, 16});
  CHECK(s.at("y") == Shape{5, 3});
  REQUIRE_THROWS_WITH(infer_shapes(g, {{"x", {5, 2, 6, 6}}}), Catch::Contains("input 'x'") && Catch::Contains("[?,1,6,6]"));
  REQUIRE_THROWS_WITH(infer_shapes(g), Catch::Contains("'x'"));
}
