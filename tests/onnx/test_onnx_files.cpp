// Malformed and unsupported models, tensor file round trips, and the example network.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "platform/dataset/idx.hpp"
#include "platform/onnx/evaluator.hpp"
#include "platform/onnx/onnx_import.hpp"
#include "platform/onnx/tensor_io.hpp"
#include "tests/onnx/model_builder.hpp"

#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace cimvp::nn;
using cimvp::nn::test::ModelBuilder;
using Catch::Contains;

namespace {

std::string tmp_path(const std::string& name) {
  return "/tmp/cimvp_test_onnx_" + std::to_string(getpid()) + "_" + name;
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

bool exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

ModelBuilder relu_model(int64_t opset = 13) {
  ModelBuilder b(opset);
  b.input("x", {-1, 4});
  b.node("Relu", {"x"}, {"y"}, "relu");
  b.output("y");
  return b;
}

}  // namespace

TEST_CASE("Truncated, empty and non-ONNX files name the file", "[onnx][errors]") {
  ModelBuilder b = relu_model();
  b.init("w", {64}, std::vector<float>(64, 1.0f));
  const std::string full = b.bytes();
  const std::string path = tmp_path("trunc.onnx");
  write_file(path, full.substr(0, full.size() / 2));
  REQUIRE_THROWS_AS(load_onnx(path), ModelError);
  // The message gives the size and where the cut is: the graph (ModelProto field 7) runs
  // past the end of the file.
  const std::string half = std::to_string(full.size() / 2) + " bytes";
  REQUIRE_THROWS_WITH(load_onnx(path), Contains(path) && Contains(half) && Contains("ModelProto.graph") &&
                                           Contains("byte offset") && Contains("truncated"));
  write_file(path, "this is a text file, not a protobuf model\n");
  // 't' = 0x74 is field 14 with wire type 4 (end group) at byte 0: not protobuf.
  REQUIRE_THROWS_WITH(load_onnx(path), Contains(path) && Contains("not a valid ONNX model") &&
                                           Contains("invalid protobuf tag at byte offset 0") && Contains("not ONNX"));
  write_file(path, "");
  REQUIRE_THROWS_WITH(load_onnx(path), Contains(path) && Contains("empty"));
  std::remove(path.c_str());
  REQUIRE_THROWS_WITH(load_onnx(path), Contains(path) && Contains("cannot open"));
}

TEST_CASE("Unsupported operator, attribute, domain and opset", "[onnx][errors]") {
  {
    ModelBuilder b(13);
    b.input("x", {1, 4});
    b.node("LSTM", {"x"}, {"y"}, "rnn1");
    b.output("y");
    REQUIRE_THROWS_WITH(b.load("m.onnx"), Contains("m.onnx") && Contains("'rnn1'") && Contains("LSTM") &&
                                              Contains("unsupported operator"));
  }
  {
    ModelBuilder b = relu_model();
    ModelBuilder::attr_f(b.proto().mutable_graph()->mutable_node(0), "alpha", 0.1f);
    REQUIRE_THROWS_WITH(b.load("m.onnx"), Contains("m.onnx") && Contains("'relu'") && Contains("Relu") &&
                                              Contains("unsupported attribute 'alpha'"));
  }
  {
    ModelBuilder b = relu_model();
    b.proto().mutable_graph()->mutable_node(0)->set_domain("com.microsoft");
    REQUIRE_THROWS_WITH(b.load(), Contains("'relu'") && Contains("com.microsoft"));
  }
  {
    // Wrong attribute type is named too.
    ModelBuilder b(13);
    b.input("x", {1, 4});
    auto* n = b.node("Flatten", {"x"}, {"y"}, "fl");
    ModelBuilder::attr(n, "axis", std::string("one"));
    b.output("y");
    REQUIRE_THROWS_WITH(b.load(), Contains("'fl'") && Contains("'axis'") && Contains("int"));
  }
  REQUIRE_THROWS_WITH(relu_model(5).load("old.onnx"), Contains("old.onnx") && Contains("opset 5"));
  REQUIRE_THROWS_WITH(relu_model(18).load(), Contains("opset 18"));
  for (int64_t op = kMinOpset; op <= kMaxOpset; ++op) CHECK(relu_model(op).load().opset == op);
}

TEST_CASE("Missing initialisers, cycles, duplicate outputs, shape mismatches", "[onnx][errors]") {
  {
    ModelBuilder b(13);
    b.input("x", {1, 1, 3, 3});
    b.node("Conv", {"x", "conv.weight"}, {"y"}, "conv1");
    b.output("y");
    REQUIRE_THROWS_WITH(b.load("net.onnx"), Contains("net.onnx") && Contains("'conv1'") &&
                                                Contains("'conv.weight'") && Contains("missing"));
  }
  {
    ModelBuilder b(13);
    b.input("x", {1, 4});
    b.node("Add", {"x", "c"}, {"a"}, "add_a");
    b.node("Relu", {"a"}, {"c"}, "relu_c");
    b.node("Identity", {"a"}, {"y"}, "out");
    b.output("y");
    REQUIRE_THROWS_WITH(b.load("cyc.onnx"), Contains("cyc.onnx") && Contains("cycle") && Contains("'add_a'") &&
                                                Contains("'relu_c'"));
  }
  {
    ModelBuilder b(13);
    b.input("x", {1, 4});
    b.node("Relu", {"x"}, {"y"}, "r1");
    b.node("Relu", {"x"}, {"y"}, "r2");
    b.output("y");
    REQUIRE_THROWS_WITH(b.load(), Contains("'r2'") && Contains("'y'"));
  }
  {
    // Nodes listed out of order are sorted.
    ModelBuilder b(13);
    b.input("x", {2});
    b.node("Relu", {"h"}, {"y"}, "second");
    b.node("Identity", {"x"}, {"h"}, "first");
    b.output("y");
    Graph g = b.load();
    REQUIRE(g.nodes.size() == 2);
    CHECK(g.nodes[0].name == "first");
    CHECK(evaluate(g, Tensor({2}, {-1, 2})).data == std::vector<float>{0, 2});
  }
  {
    ModelBuilder b(13);
    b.input("x", {1, 4});
    b.node("Relu", {"x"}, {"y"}, "relu");
    b.output("z");
    REQUIRE_THROWS_WITH(b.load(), Contains("'z'"));
  }
  {
    // Declared output shape disagrees with what the graph computes.
    ModelBuilder b(13);
    b.input("x", {-1, 4});
    b.node("Relu", {"x"}, {"y"}, "relu");
    std::vector<int64_t> d{-1, 5};
    b.output("y", &d);
    Graph g = b.load("o.onnx");
    REQUIRE_THROWS_WITH(infer_shapes(g, {{"x", {2, 4}}}), Contains("o.onnx") && Contains("'y'") && Contains("[?,5]"));
  }
  {
    // Input of the wrong shape at evaluation time names the input.
    Graph g = relu_model().load("r.onnx");
    REQUIRE_THROWS_WITH(evaluate(g, Tensor({2, 5})), Contains("r.onnx") && Contains("'x'") && Contains("[2,5]"));
    CHECK(evaluate(g, Tensor({3, 4}, -1.0f)).shape == Shape{3, 4});
  }
  {
    // Non-float graph input dtype.
    ModelBuilder b = relu_model();
    b.proto().mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->set_elem_type(
        onnx::TensorProto::INT64);
    REQUIRE_THROWS_WITH(b.load(), Contains("'x'") && Contains("int64"));
  }
  {
    // Initializer whose data does not fill its shape.
    ModelBuilder b = relu_model();
    b.init("bad", {3, 3}, {1, 2});
    REQUIRE_THROWS_WITH(b.load("t.onnx"), Contains("t.onnx") && Contains("'bad'"));
  }
}

TEST_CASE("Tensor files: .pb and .npy round trip, dtype/format errors", "[onnx][io]") {
  Tensor t({2, 3}, {1.5f, -2, 0, 3.25f, 1e-7f, 65504});
  const std::string pb = tmp_path("t.pb"), npy = tmp_path("t.npy");
  write_tensor(pb, t);
  write_tensor(npy, t);
  CHECK(read_tensor(pb).shape == t.shape);
  CHECK(read_tensor(pb).data == t.data);
  CHECK(read_tensor(npy).shape == t.shape);
  CHECK(read_tensor(npy).data == t.data);
  // The .npy header is exactly what numpy writes (version 1.0, 64-byte aligned data).
  {
    std::ifstream f(npy, std::ios::binary);
    std::string b((std::istreambuf_iterator<char>(f)), {});
    REQUIRE(b.size() == 128 + 24);
    CHECK(b.substr(10, 59) == "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }");
    CHECK(b[127] == '\n');
  }
  Tensor v({3}, {1, 2, 3});
  write_npy(npy, v);
  CHECK(read_npy(npy).shape == Shape{3});
  // TensorProto with float_data (not raw_data) reads too.
  onnx::TensorProto tp;
  tp.set_data_type(onnx::TensorProto::FLOAT);
  tp.add_dims(2);
  tp.add_float_data(7);
  tp.add_float_data(8);
  write_file(pb, tp.SerializeAsString());
  CHECK(read_tensor_pb(pb).data == std::vector<float>{7, 8});
  tp.set_data_type(onnx::TensorProto::INT64);
  tp.clear_float_data();
  tp.add_int64_data(1);
  tp.add_int64_data(2);
  write_file(pb, tp.SerializeAsString());
  REQUIRE_THROWS_WITH(read_tensor_pb(pb), Contains(pb) && Contains("int64") && Contains("float32"));
  // float64 .npy is a dtype error naming the file.
  std::string hdr = "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }";
  hdr += std::string((64 - (10 + hdr.size() + 1) % 64) % 64, ' ') + "\n";
  write_file(npy, std::string("\x93NUMPY\x01\x00", 8) + std::string(1, char(hdr.size())) + '\0' + hdr +
                      std::string(8, '\0'));
  REQUIRE_THROWS_WITH(read_npy(npy), Contains(npy) && Contains("<f8"));
  write_file(npy, "garbage");
  REQUIRE_THROWS_WITH(read_npy(npy), Contains(npy) && Contains("magic"));
  // Truncated payload.
  write_npy(npy, t);
  {
    std::ifstream f(npy, std::ios::binary);
    std::string b((std::istreambuf_iterator<char>(f)), {});
    write_file(npy, b.substr(0, b.size() - 4));
  }
  REQUIRE_THROWS_WITH(read_npy(npy), Contains(npy) && Contains("truncated"));
  REQUIRE_THROWS_WITH(read_tensor(tmp_path("t.txt")), Contains("t.txt") && Contains(".npy"));
  std::remove(pb.c_str());
  std::remove(npy.c_str());
}

#ifdef CIMVP_EXAMPLE_MODEL
// The committed example network reproduces PyTorch's float accuracy on the first 1000 test
// images (figure written by tools/train_fashion_mnist.py into the training log).
namespace {
// Reference-evaluator accuracy on test images [0, n) and the PyTorch figure logged under `key`.
std::pair<double, double> example_accuracy(size_t n, const std::string& key) {
  Graph g = load_onnx(CIMVP_EXAMPLE_MODEL);
  std::ifstream lf(CIMVP_EXAMPLE_LOG);
  std::stringstream ls;
  ls << lf.rdbuf();
  const std::string text = ls.str();
  std::smatch m;
  if (!std::regex_search(text, m, std::regex(key + " ([0-9.]+)")))
    throw std::runtime_error(std::string(CIMVP_EXAMPLE_LOG) + ": no '" + key + "' line");
  auto test = cimvp::dataset::load_fashion_mnist(cimvp::dataset::Split::Test);
  const size_t batch = 50;
  size_t correct = 0;
  for (size_t first = 0; first < n; first += batch) {
    Tensor x({static_cast<int64_t>(batch), 1, 28, 28}, test.to_float(first, batch));
    Tensor y = evaluate(g, x);  // batch > 1 through the whole graph
    for (size_t i = 0; i < batch; ++i) {
      auto row = y.data.begin() + static_cast<long>(i * 10);
      const long cls = std::max_element(row, row + 10) - row;
      correct += cls == test.labels[first + i];
    }
  }
  return {static_cast<double>(correct) / static_cast<double>(n), std::stod(m[1])};
}
}  // namespace

// All 10,000 test images (about 15 s): run with `test_onnx_files "[full]"`.
TEST_CASE("Example network: full test set accuracy equals PyTorch's", "[.][full]") {
  if (!exists(std::string(cimvp::dataset::kFashionMnistDir) + "/t10k-images-idx3-ubyte.gz")) {
    WARN("dataset-fashion-mnist not installed; skipping");
    return;
  }
  auto [acc, torch_acc] = example_accuracy(10000, "final float test_accuracy");
  INFO("reference evaluator " << acc << " vs PyTorch " << torch_acc);
  CHECK(std::abs(acc - torch_acc) <= 2.0 / 10000);
}

TEST_CASE("Example Fashion-MNIST network matches its PyTorch accuracy", "[onnx][example]") {
  const std::string model = CIMVP_EXAMPLE_MODEL;
  Graph g = load_onnx(model);
  REQUIRE(g.opset == 13);
  REQUIRE(g.inputs.size() == 1);
  CHECK(g.inputs[0].name == "input");
  CHECK(g.inputs[0].shape == Shape{-1, 1, 28, 28});
  auto shapes = infer_shapes(g, {{"input", {7, 1, 28, 28}}});
  CHECK(shapes.at(g.outputs[0].name) == Shape{7, 10});

  const std::string dir = cimvp::dataset::kFashionMnistDir;
  if (!exists(dir + "/t10k-images-idx3-ubyte.gz")) {
    WARN("dataset-fashion-mnist not installed; skipping the accuracy check");
    return;
  }
  auto [acc, torch_acc] = example_accuracy(1000, "float test_accuracy_first1000");
  INFO("reference evaluator " << acc << " vs PyTorch " << torch_acc);
  // Float rounding may flip at most a borderline image or two.
  CHECK(std::abs(acc - torch_acc) <= 2.0 / 1000);
}

TEST_CASE("Example network: batch evaluation equals per-image evaluation", "[onnx][example]") {
  Graph g = load_onnx(CIMVP_EXAMPLE_MODEL);
  std::vector<float> px(3 * 784);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<float>((i * 37) % 256) / 255.0f;
  Tensor yb = evaluate(g, Tensor({3, 1, 28, 28}, px));
  for (int i = 0; i < 3; ++i) {
    Tensor yi = evaluate(g, Tensor({1, 1, 28, 28}, std::vector<float>(px.begin() + i * 784, px.begin() + (i + 1) * 784)));
    for (int k = 0; k < 10; ++k) CHECK(yb.data[i * 10 + k] == yi.data[k]);
  }
}
#endif
