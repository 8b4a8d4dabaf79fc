#include "platform/compiler/compiler.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <map>
#include <sstream>
#include <stdexcept>

#include "platform/dataset/idx.hpp"
#include "platform/onnx/evaluator.hpp"
#include "platform/onnx/onnx_import.hpp"

extern "C" {
#include "cimvp/regs.h"  // DMA_DESC_BYTES, DPU_OP_BYTES (descriptor scratch sizing)
}

namespace cimvp::compiler {

static_assert(sizeof(cimnet_header_t) == 128, "cimnet_header_t layout");
static_assert(sizeof(cimnet_layer_t) == 192, "cimnet_layer_t layout");
static_assert(sizeof(cimnet_tile_t) == 48, "cimnet_tile_t layout");
static_assert(sizeof(cimnet_job_t) == 96, "cimnet_job_t layout");

namespace {

using nn::ModelError;

std::string where(const nn::Graph& g, const nn::Node& n) { return g.source + ": " + n.label(); }

const nn::Tensor& need_init(const nn::Graph& g, const nn::Node& n, std::size_t i, const char* what) {
  if (i >= n.inputs.size() || n.inputs[i].empty())
    throw ModelError(where(g, n) + ": input " + std::to_string(i) + " (" + what + ") is missing");
  const nn::Tensor* t = g.initializer(n.inputs[i]);
  if (!t)
    throw ModelError(where(g, n) + ": " + what + " '" + n.inputs[i] +
                     "' is computed at run time; the chip needs it constant (an initializer) to map it onto crossbars");
  return *t;
}

// The structural pass: chain of layers with their fused post-operations (no calibration).
struct Plan {
  std::vector<Layer> layers;
  std::string input_name, output_name;
  nn::Shape input_shape;  // [1, C, H, W] or [1, K]
};

Plan plan(const nn::Graph& g) {
  if (g.inputs.size() != 1)
    throw ModelError(g.source + ": the chip runs graphs with exactly one input (this one has " +
                     std::to_string(g.inputs.size()) + ")");
  if (g.outputs.size() != 1)
    throw ModelError(g.source + ": the chip runs graphs with exactly one output (this one has " +
                     std::to_string(g.outputs.size()) + ")");
  const auto& in = g.inputs[0];
  if (!in.has_shape || in.shape.empty())
    throw ModelError(g.source + ": input '" + in.name + "' declares no shape; the compiler needs [N,C,H,W] or [N,K]");
  nn::Shape ish = in.shape;
  // A dynamic batch is planned as 1; a fixed one as declared (the model's own shape checks,
  // e.g. a Reshape to [2, -1], then hold). Layers describe one image either way.
  if (ish[0] < 1) ish[0] = 1;
  for (std::size_t i = 1; i < ish.size(); ++i)
    if (ish[i] < 1) throw ModelError(g.source + ": input '" + in.name + "' has a dynamic dimension other than the batch");
  if (ish.size() != 4 && ish.size() != 2)
    throw ModelError(g.source + ": input '" + in.name + "' " + nn::shape_str(in.shape) +
                     ": the chip takes [N,C,H,W] images or [N,K] vectors");
  auto shapes = nn::infer_shapes(g, {{in.name, ish}});

  Plan p;
  p.input_name = in.name;
  p.input_shape = ish;
  std::string cur = in.name;  // the chain's present value
  Layer* L = nullptr;         // layer the present value belongs to (null before the first)
  bool pooled = false, softmaxed = false, residual = false;
  // Outputs of finished layers (a later layer may add one as its residual) -> layer index.
  std::map<std::string, std::size_t> finished;

  for (const auto& n : g.nodes) {
    const std::string& op = n.op_type;
    // Add is commutative (opset >= 7): the chain's value may be either operand.
    const bool swap = op == "Add" && g.opset >= 7 && n.inputs.size() == 2 && n.inputs[1] == cur && n.inputs[0] != cur;
    const std::string& in0 = n.inputs.empty() ? std::string() : n.inputs[swap ? 1 : 0];
    if (in0 != cur)
      throw ModelError(where(g, n) + ": reads '" + in0 + "' but the chip runs a chain of layers and the chain's value here is '" +
                       cur + "' (parallel branches are not supported; a residual Add of an earlier layer's output is)");
    const std::string other = n.inputs.size() > 1 ? n.inputs[swap ? 0 : 1] : std::string();
    const std::string out = n.outputs.at(0);
    const nn::Shape& xs = shapes.at(cur);
    if (softmaxed) throw ModelError(where(g, n) + ": Softmax must be the last operator for the chip");

    if (op == "Conv" || op == "Gemm" || op == "MatMul") {
      if (L) finished[L->output_value] = p.layers.size() - 1;
      Layer nl;
      nl.name = n.name;
      nl.input_value = cur;
      auto& d = nl.desc;
      if (op == "Conv") {
        if (xs.size() != 4) throw ModelError(where(g, n) + ": the chip supports 2-D convolutions only");
        const nn::Tensor& w = need_init(g, n, 1, "weight");
        if (n.get_int("group", 1) != 1) throw ModelError(where(g, n) + ": attribute 'group' != 1 is not supported by the chip");
        const int64_t N = w.shape[0], C = w.shape[1], kh = w.shape[2], kw = w.shape[3];
        auto geo = nn::window_geometry(g, n, xs, {kh, kw});
        d.op = CIMNET_OP_CONV;
        d.in_c = static_cast<uint32_t>(C);
        d.in_h = static_cast<uint32_t>(xs[2]);
        d.in_w = static_cast<uint32_t>(xs[3]);
        d.kh = static_cast<uint32_t>(kh);
        d.kw = static_cast<uint32_t>(kw);
        d.stride_h = static_cast<uint32_t>(geo.stride[0]);
        d.stride_w = static_cast<uint32_t>(geo.stride[1]);
        d.dil_h = static_cast<uint32_t>(geo.dilation[0]);
        d.dil_w = static_cast<uint32_t>(geo.dilation[1]);
        d.pad_t = static_cast<uint32_t>(geo.pad_begin[0]);
        d.pad_l = static_cast<uint32_t>(geo.pad_begin[1]);
        d.pad_b = static_cast<uint32_t>(geo.pad_end[0]);
        d.pad_r = static_cast<uint32_t>(geo.pad_end[1]);
        d.mm_h = static_cast<uint32_t>(geo.out[0]);
        d.mm_w = static_cast<uint32_t>(geo.out[1]);
        d.k = static_cast<uint32_t>(C * kh * kw);
        d.n = static_cast<uint32_t>(N);
        // Weight [N, C, kh, kw] -> K x N with row c*kh*kw + ky*kw + kx (the im2col row order).
        nl.w.resize(d.k, d.n);
        for (int64_t j = 0; j < N; ++j)
          for (int64_t r = 0; r < static_cast<int64_t>(d.k); ++r) nl.w(r, j) = w.data[j * d.k + r];
        nl.bias = Eigen::VectorXf::Zero(d.n);
        if (n.inputs.size() > 2 && !n.inputs[2].empty()) {
          const nn::Tensor& b = need_init(g, n, 2, "bias");
          for (int64_t j = 0; j < N; ++j) nl.bias(j) = b.data[j];
        }
      } else {
        if (xs.size() != 2)
          throw ModelError(where(g, n) + ": input " + nn::shape_str(xs) + " must be 2-D [N,K] (add a Flatten)");
        const nn::Tensor& b = need_init(g, n, 1, "B");
        if (b.shape.size() != 2) throw ModelError(where(g, n) + ": B must be a 2-D initializer");
        float alpha = 1.f, beta = 1.f;
        bool transB = false;
        if (op == "Gemm") {
          if (n.get_int("transA", 0) != 0)
            throw ModelError(where(g, n) + ": attribute 'transA' = 1 is not supported by the chip: A^T puts the batch on "
                             "axis 1, but the chip's input vectors are the rows of A (export with transA = 0)");
          transB = n.get_int("transB", 0) != 0;
          alpha = n.get_float("alpha", 1.f);
          beta = n.get_float("beta", 1.f);
        }
        const int64_t K = transB ? b.shape[1] : b.shape[0], N = transB ? b.shape[0] : b.shape[1];
        d.op = CIMNET_OP_FC;
        d.in_c = static_cast<uint32_t>(K);
        d.in_h = d.in_w = 1;
        d.mm_h = d.mm_w = 1;
        d.k = static_cast<uint32_t>(K);
        d.n = static_cast<uint32_t>(N);
        nl.w.resize(K, N);
        for (int64_t r = 0; r < K; ++r)
          for (int64_t j = 0; j < N; ++j) nl.w(r, j) = alpha * (transB ? b.data[j * K + r] : b.data[r * N + j]);
        nl.bias = Eigen::VectorXf::Zero(N);
        if (op == "Gemm" && n.inputs.size() > 2 && !n.inputs[2].empty()) {
          const nn::Tensor& c = need_init(g, n, 2, "C");
          const int64_t cn = nn::numel(c.shape);
          if (!(cn == 1 || (cn == N && (c.shape.size() == 1 || c.shape[0] == 1))))
            throw ModelError(where(g, n) + ": bias C " + nn::shape_str(c.shape) + " must be a scalar or have N = " +
                             std::to_string(N) + " entries along the last axis (per-row biases are not supported)");
          for (int64_t j = 0; j < N; ++j) nl.bias(j) = beta * c.data[cn == 1 ? 0 : j];
        }
      }
      d.out_c = d.n;
      d.out_h = d.mm_h;
      d.out_w = d.mm_w;
      d.digits = 1;
      p.layers.push_back(std::move(nl));
      L = &p.layers.back();
      pooled = false;
      residual = false;
    } else if (op == "Identity" || op == "Dropout") {
      // No-op at inference.
    } else if (op == "Flatten" || op == "Reshape") {
      const nn::Shape& os = shapes.at(out);
      // CHW order is what the chip keeps, so a flatten to [N, C*H*W] moves no data.
      if (!(os.size() == 2 && os[1] == nn::numel(xs) / xs[0]) && !(os == xs))
        throw ModelError(where(g, n) + ": reshapes " + nn::shape_str(xs) + " to " + nn::shape_str(os) +
                         "; the chip supports only flattening to [N, C*H*W]");
    } else if (!L) {
      throw ModelError(where(g, n) + ": " + op +
                       " before the first Conv/Gemm/MatMul is not supported by the chip (the DPU post-processes tile outputs)");
    } else if (op == "BatchNormalization") {
      if (L->desc.flags & (CIMNET_F_RELU | CIMNET_F_POOL_MAX | CIMNET_F_POOL_AVG))
        throw ModelError(where(g, n) + ": BatchNormalization after ReLU/pooling cannot be folded into the weights");
      if (residual)
        throw ModelError(where(g, n) + ": BatchNormalization after a residual Add cannot be folded into the weights "
                         "(it would scale the residual too)");
      const auto& sc = need_init(g, n, 1, "scale");
      const auto& bb = need_init(g, n, 2, "B");
      const auto& mean = need_init(g, n, 3, "mean");
      const auto& var = need_init(g, n, 4, "var");
      const float eps = n.get_float("epsilon", 1e-5f);
      const int N = static_cast<int>(L->desc.n);
      if (nn::numel(sc.shape) != N || nn::numel(bb.shape) != N || nn::numel(mean.shape) != N || nn::numel(var.shape) != N)
        throw ModelError(where(g, n) + ": parameters must have " + std::to_string(N) + " channels");
      // y = (x - mean) / sqrt(var + eps) * scale + B, folded per output column.
      for (int j = 0; j < N; ++j) {
        const double s = sc.data[j] / std::sqrt(static_cast<double>(var.data[j]) + eps);
        L->w.col(j) *= static_cast<float>(s);
        L->bias(j) = static_cast<float>((L->bias(j) - mean.data[j]) * s + bb.data[j]);
      }
    } else if (op == "Add") {
      if (L->desc.flags & (CIMNET_F_RELU | CIMNET_F_POOL_MAX | CIMNET_F_POOL_AVG))
        throw ModelError(where(g, n) + ": Add after ReLU/pooling is not supported by the chip (the DPU adds before them)");
      const nn::Shape& os = shapes.at(out);
      if (os != xs) throw ModelError(where(g, n) + ": Add must not change the shape " + nn::shape_str(xs) + " (it gives " +
                                     nn::shape_str(os) + ")");
      if (const nn::Tensor* c = g.initializer(other)) {
        // A constant folds into the bias only when it broadcasts per output channel: after
        // aligning its shape with the layer output [B, N, H, W] / [B, N] (ONNX
        // multidirectional broadcasting: right-aligned; opset < 7 with broadcast=1: from
        // `axis`), every dimension but the channel axis 1 must be 1.
        const std::size_t r = xs.size();
        nn::Shape al(r, 1);
        bool ok = c->shape.size() <= r;
        if (ok && g.opset < 7 && n.get_int("broadcast", 0) != 0) {
          int64_t axis = n.has("axis") ? n.get_int("axis", 0) : static_cast<int64_t>(r - c->shape.size());
          if (axis < 0) axis += static_cast<int64_t>(r);
          for (std::size_t i = 0; i < c->shape.size(); ++i) al[static_cast<std::size_t>(axis) + i] = c->shape[i];
        } else if (ok && g.opset < 7) {
          al = c->shape;  // no broadcasting before opset 7: the same shape as the input
        } else if (ok) {
          for (std::size_t i = 0; i < c->shape.size(); ++i) al[r - c->shape.size() + i] = c->shape[i];
        }
        for (std::size_t i = 0; ok && i < r; ++i) ok = i == 1 || al[i] == 1;
        const int N = static_cast<int>(L->desc.n);
        if (!ok || (al[1] != 1 && al[1] != N))
          throw ModelError(where(g, n) + ": constant '" + other + "' " + nn::shape_str(c->shape) + " broadcasts to " +
                           nn::shape_str(xs) + " as " + nn::shape_str(al) +
                           ", not per output channel; the DPU adds one bias per channel (use shape [" +
                           std::to_string(N) + (r == 4 ? ",1,1]" : "]") + " or a scalar)");
        for (int j = 0; j < N; ++j) L->bias(j) += c->data[al[1] == 1 ? 0 : j];
      } else if (finished.count(other)) {
        // Residual connection: the DPU adds the earlier layer's stored output (its own SRAM
        // buffer) after scale and bias, before ReLU and pooling.
        if (residual) throw ModelError(where(g, n) + ": a second residual Add in one layer is not supported (the DPU has one residual input)");
        const std::size_t src = finished.at(other);
        if (shapes.at(other) != xs)
          throw ModelError(where(g, n) + ": residual '" + other + "' " + nn::shape_str(shapes.at(other)) +
                           " must have the shape of '" + cur + "' " + nn::shape_str(xs) + " (no broadcasting)");
        p.layers[src].desc.flags |= CIMNET_F_RES_SOURCE;
        L->desc.flags |= CIMNET_F_RESIDUAL;
        L->desc.res_layer = static_cast<uint32_t>(src + 1);
        residual = true;
      } else if (other == in.name) {
        throw ModelError(where(g, n) + ": residual Add of the network input '" + other +
                         "' is not supported by the chip (only outputs of earlier Conv/Gemm/MatMul layers)");
      } else {
        throw ModelError(where(g, n) + ": adds '" + other + "', which is neither a constant nor the output of an earlier "
                         "layer (with its ReLU/pooling); the chip adds a per-channel bias or a residual of a finished layer");
      }
    } else if (op == "Relu") {
      if (L->desc.flags & CIMNET_F_POOL_AVG)
        throw ModelError(where(g, n) + ": ReLU after average pooling is not supported (the DPU applies ReLU before pooling)");
      // relu(maxpool(x)) = maxpool(relu(x)): the DPU applies ReLU first either way.
      L->desc.flags |= CIMNET_F_RELU;
    } else if (op == "MaxPool" || op == "AveragePool" || op == "GlobalAveragePool") {
      if (pooled || L->desc.op != CIMNET_OP_CONV)
        throw ModelError(where(g, n) + ": the DPU pools once per layer, after a Conv");
      auto& d = L->desc;
      if (op == "GlobalAveragePool") {
        d.pool_kh = d.out_h;
        d.pool_kw = d.out_w;
        d.pool_sh = d.pool_sw = 1;
        d.flags |= CIMNET_F_POOL_AVG;
      } else {
        if (n.outputs.size() > 1 && !n.outputs[1].empty())
          throw ModelError(where(g, n) + ": the Indices output of MaxPool is not supported by the chip");
        auto ks = n.get_ints("kernel_shape", {});
        auto geo = nn::window_geometry(g, n, xs, ks);
        if (geo.dilation[0] != 1 || geo.dilation[1] != 1)
          throw ModelError(where(g, n) + ": attribute 'dilations' != 1 is not supported by the DPU");
        d.pool_kh = static_cast<uint32_t>(ks[0]);
        d.pool_kw = static_cast<uint32_t>(ks[1]);
        d.pool_sh = static_cast<uint32_t>(geo.stride[0]);
        d.pool_sw = static_cast<uint32_t>(geo.stride[1]);
        d.pool_pt = static_cast<uint32_t>(geo.pad_begin[0]);
        d.pool_pl = static_cast<uint32_t>(geo.pad_begin[1]);
        d.pool_pb = static_cast<uint32_t>(geo.pad_end[0]);
        d.pool_pr = static_cast<uint32_t>(geo.pad_end[1]);
        if (d.pool_pt >= d.pool_kh || d.pool_pb >= d.pool_kh || d.pool_pl >= d.pool_kw || d.pool_pr >= d.pool_kw)
          throw ModelError(where(g, n) + ": pads " + nn::shape_str({geo.pad_begin[0], geo.pad_begin[1], geo.pad_end[0],
                                                                     geo.pad_end[1]}) +
                           " must be smaller than the kernel for the DPU (a window entirely in the padding)");
        if (op == "MaxPool") {
          d.flags |= CIMNET_F_POOL_MAX;
        } else {
          d.flags |= CIMNET_F_POOL_AVG;
          if (n.get_int("count_include_pad", 0)) d.flags |= CIMNET_F_POOL_PAD_INCL;
        }
      }
      const nn::Shape& os = shapes.at(out);
      d.out_h = static_cast<uint32_t>(os[2]);
      d.out_w = static_cast<uint32_t>(os[3]);
      pooled = true;
    } else if (op == "Softmax") {
      // The chip's softmax runs over all outputs of one image. Opset < 13 softmaxes the 2-D
      // coercion [prod(dims < axis), prod(dims >= axis)]: per image iff axis == 1. Opset >= 13
      // softmaxes the one dimension `axis`: per image iff every other non-batch dim is 1.
      const int64_t r = static_cast<int64_t>(xs.size());
      int64_t axis = n.get_int("axis", g.opset >= 13 ? -1 : 1);
      if (axis < 0) axis += r;
      bool ok = axis >= 1 && axis < r;
      if (ok && g.opset >= 13)
        for (int64_t i = 1; i < r; ++i) ok = ok && (i == axis || xs[static_cast<std::size_t>(i)] == 1);
      if (ok && g.opset < 13) ok = axis == 1;
      if (!ok)
        throw ModelError(where(g, n) + ": Softmax over axis " + std::to_string(n.get_int("axis", g.opset >= 13 ? -1 : 1)) +
                         " of " + nn::shape_str(xs) + " at opset " + std::to_string(g.opset) +
                         " is not over all values of one image; the chip computes Softmax per image only");
      L->desc.flags |= CIMNET_F_SOFTMAX;
      softmaxed = true;
    } else {
      throw ModelError(where(g, n) + ": operator " + op + " is not supported by the chip");
    }
    cur = out;
    if (L) L->output_value = cur;
  }
  if (p.layers.empty()) throw ModelError(g.source + ": the graph has no Conv, Gemm or MatMul to map onto the chip");
  if (cur != g.outputs[0].name)
    throw ModelError(g.source + ": graph output '" + g.outputs[0].name + "' is not the end of the layer chain");
  p.output_name = cur;
  p.layers.back().desc.flags |= CIMNET_F_LAST;
  // Layer inputs must be what the previous layer produced (shape check).
  for (std::size_t i = 1; i < p.layers.size(); ++i) {
    const auto& a = p.layers[i - 1].desc;
    const auto& b = p.layers[i].desc;
    const uint64_t produced = uint64_t(a.out_c) * a.out_h * a.out_w;
    const uint64_t consumed = uint64_t(b.in_c) * b.in_h * b.in_w;
    if (produced != consumed)
      throw ModelError(g.source + ": node '" + p.layers[i].name + "' consumes " + std::to_string(consumed) +
                       " values but the layer before produces " + std::to_string(produced));
  }
  return p;
}

uint32_t ceil_div(uint32_t a, uint32_t b) { return (a + b - 1) / b; }

}  // namespace

float percentile(std::vector<float>& v, double p) {
  if (v.empty()) return 0.f;
  double r = std::ceil(p / 100.0 * static_cast<double>(v.size())) - 1;
  std::size_t k = static_cast<std::size_t>(std::clamp(r, 0.0, static_cast<double>(v.size() - 1)));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

int tiles_needed(const nn::Graph& g, const crossbar::MappingParams& m, int weight_digits) {
  Plan p = plan(g);
  int t = 0;
  for (const auto& l : p.layers)
    t += static_cast<int>(ceil_div(l.desc.k, m.rows) *
                          ceil_div(l.desc.n * static_cast<uint32_t>(weight_digits), m.max_logical_columns()));
  return t;
}

Network compile(const nn::Graph& g, const CompileOptions& opt) {
  opt.mapping.validate("chip.crossbar.");
  crossbar::validate(opt.device, opt.mapping, "chip.crossbar.device.", "chip.crossbar.");
  if (opt.percentile <= 0 || opt.percentile > 100)
    throw std::invalid_argument("compiler: percentile must be in (0, 100], got " + std::to_string(opt.percentile));
  if (opt.ideal && (opt.ideal_digits < 1 || opt.ideal_digits * opt.mapping.input_bits > 31))
    throw std::invalid_argument("compiler: ideal_digits x input_bits must be at most 31 bits");
  Plan p = plan(g);
  Network net;
  net.input_name = p.input_name;
  net.output_name = p.output_name;

  // --- Activation scales from the calibration inputs (reference evaluator). ---
  const auto& cal = opt.calibration;
  if (cal.data.empty())
    throw std::invalid_argument(g.source + ": no calibration inputs (give training-split images for the activation scales)");
  {
    nn::Shape want = p.input_shape;
    want[0] = cal.shape.empty() ? 0 : cal.shape[0];
    if (cal.shape != want)
      throw std::invalid_argument(g.source + ": " + opt.calibration_source + " " + nn::shape_str(cal.shape) +
                                  " do not match the model input '" + p.input_name + "' " +
                                  nn::shape_str(g.inputs[0].shape) + " (give calibration data of that shape)");
  }
  // The reference evaluator on the calibration set. A model that declares a fixed batch B
  // takes it B images at a time (a remainder of fewer than B images is left out).
  std::map<std::string, nn::Tensor> values;
  const int64_t fixed = g.inputs[0].shape[0] > 0 ? g.inputs[0].shape[0] : 0;
  if (fixed == 0 || cal.shape[0] == fixed) {
    values = nn::evaluate(g, {{p.input_name, cal}}, true);
    values[p.input_name] = cal;
  } else {
    if (cal.shape[0] < fixed)
      throw std::invalid_argument(g.source + ": " + opt.calibration_source + " hold " + std::to_string(cal.shape[0]) +
                                  " inputs but the model's input '" + p.input_name + "' has a fixed batch of " +
                                  std::to_string(fixed) + ": give at least " + std::to_string(fixed));
    const int64_t per = nn::numel(cal.shape) / cal.shape[0];
    for (int64_t b0 = 0; b0 + fixed <= cal.shape[0]; b0 += fixed) {
      nn::Shape cs = cal.shape;
      cs[0] = fixed;
      nn::Tensor chunk(cs, std::vector<float>(cal.data.begin() + b0 * per, cal.data.begin() + (b0 + fixed) * per));
      auto v = nn::evaluate(g, {{p.input_name, chunk}}, true);
      v[p.input_name] = chunk;
      for (auto& [k, t] : v) {
        if (g.initializer(k)) continue;
        auto& dst = values[k];
        dst.shape = t.shape;
        dst.data.insert(dst.data.end(), t.data.begin(), t.data.end());
      }
    }
  }
  const int digits = opt.ideal ? opt.ideal_digits : 1;
  const uint64_t q_max = (uint64_t(1) << (opt.mapping.input_bits * digits)) - 1;
  for (auto& l : p.layers) {
    const nn::Tensor& x = values.at(l.input_value);
    std::vector<float> pos, mag;
    pos.reserve(x.data.size());
    float mn = 0, mx = 0;
    for (float v : x.data) {
      mn = std::min(mn, v);
      mx = std::max(mx, v);
      mag.push_back(std::fabs(v));
    }
    const bool sgn = mn < 0.f;
    float top = opt.ideal ? std::max(mx, -mn) : percentile(mag, opt.percentile);
    if (!(top > 0.f)) top = 1.f;
    auto& d = l.desc;
    if (sgn) d.flags |= CIMNET_F_SIGNED_INPUT;
    d.digits = static_cast<uint32_t>(digits);
    d.q_max = static_cast<uint32_t>(q_max);
    d.x_scale = static_cast<float>(top / static_cast<double>(q_max));
    // Pixel inputs in [0,1] at 8 bits get exactly 1/255: the codes are then the pixels.
    if (!opt.ideal && std::fabs(top - 1.f) < 1e-6f) d.x_scale = 1.f / static_cast<float>(q_max);
  }

  // --- Weights: quantise, split into arrays, assign tiles. ---
  const auto& m = opt.mapping;
  const uint32_t rows = static_cast<uint32_t>(m.rows), lcols = static_cast<uint32_t>(m.max_logical_columns());
  uint32_t next_tile = 0;
  for (uint32_t li = 0; li < p.layers.size(); ++li) {
    auto& l = p.layers[li];
    auto& d = l.desc;
    l.q = crossbar::quantize_weights(l.w, m);
    d.wdigits = 1;
    if (opt.ideal && opt.ideal_weight_digits == 2) {
      // Second weight digit: the code of each weight's rounding remainder at 2^-16 of its
      // column's scale, in column out_c + j (|remainder| <= scale/2, so |code| <= 2^15).
      const double g_lo = 1.0 / 65536.0;
      const Eigen::Index K = l.q.codes.rows(), N = l.q.codes.cols();
      const int qmax = m.max_weight_code();
      Eigen::MatrixXi codes(K, 2 * N);
      Eigen::VectorXd scales(2 * N);
      codes.leftCols(N) = l.q.codes;
      for (Eigen::Index j = 0; j < N; ++j) {
        scales(j) = l.q.scales(j);
        scales(N + j) = l.q.scales(j) * g_lo;
        for (Eigen::Index r = 0; r < K; ++r) {
          const double rem = double(l.w(r, j)) - l.q.scales(j) * l.q.codes(r, j);
          codes(r, N + j) = int(std::clamp<long>(std::lround(rem / scales(N + j)), -qmax, qmax));
        }
      }
      l.q.codes = std::move(codes);
      l.q.scales = std::move(scales);
      d.wdigits = 2;
      d.lo_gain = static_cast<float>(g_lo);
      d.n = static_cast<uint32_t>(2 * N);
    } else if (opt.ideal_weight_digits != 1 && opt.ideal) {
      throw std::invalid_argument("compiler: ideal_weight_digits must be 1 or 2");
    }
    d.row_blocks = ceil_div(d.k, rows);
    d.col_blocks = ceil_div(d.n, lcols);
    d.first_tile = next_tile;
    d.block_cols = lcols;
    l.dpu_scale.resize(d.n);
    for (uint32_t j = 0; j < d.n; ++j) l.dpu_scale[j] = static_cast<float>(l.q.scales(j) * d.x_scale);
    for (uint32_t rb = 0; rb < d.row_blocks; ++rb)
      for (uint32_t cb = 0; cb < d.col_blocks; ++cb) {
        TileBlock t;
        t.rec.layer = li;
        t.rec.rb = rb;
        t.rec.cb = cb;
        t.rec.row0 = rb * rows;
        t.rec.col0 = cb * lcols;
        t.rec.k = std::min(rows, d.k - t.rec.row0);
        t.rec.n = std::min(lcols, d.n - t.rec.col0);
        Eigen::MatrixXi codes = l.q.codes.block(t.rec.row0, t.rec.col0, t.rec.k, t.rec.n);
        t.block = crossbar::map_codes(codes, m, opt.device);
        t.rec.used_cols = static_cast<uint32_t>(t.block.used_cols);
        net.tiles.push_back(std::move(t));
        ++next_tile;
      }
    net.ops_per_inference += 2.0 * d.mm_h * d.mm_w * double(d.k) * d.out_c;
  }
  if (opt.tiles_available >= 0 && next_tile > static_cast<uint32_t>(opt.tiles_available)) {
    std::ostringstream s;
    s << g.source << ": the network needs " << next_tile << " tiles (" << m.rows << "x" << m.cols
      << " arrays, one array per tile) but the chip has " << opt.tiles_available
      << ": give the tile entry of memory_map `count: " << next_tile << "` or set network.tiles: auto";
    throw std::runtime_error(s.str());
  }

  // --- SRAM buffers for a batch: two activation buffers (ping-pong), codes, partial sums,
  // the multi-pass buffers (digit planes, accumulator, remainders) where a layer needs them,
  // and one buffer per residual source. Sizes per image first. ---
  auto al = [](uint64_t v) { return (v + 63) & ~uint64_t(63); };
  uint64_t act = 0, codes = 0, acc = 0, planes = 0, sum = 0, tmp = 0, res_total = 0, desc_need = 0;
  for (std::size_t i = 0; i < p.layers.size(); ++i) {
    const auto& d = p.layers[i].desc;
    const uint64_t in_sz = uint64_t(d.in_c) * d.in_h * d.in_w, out_sz = uint64_t(d.out_c) * d.out_h * d.out_w;
    const uint64_t P = uint64_t(d.mm_h) * d.mm_w;
    act = std::max({act, 4 * in_sz, 4 * out_sz});
    codes = std::max<uint64_t>(codes, P * d.k);
    acc = std::max<uint64_t>(acc, 4ull * d.row_blocks * P * d.n);
    const uint64_t nsign = (d.flags & CIMNET_F_SIGNED_INPUT) ? 2 : 1, passes = nsign * d.digits;
    // Layer 0 takes the job's uint8 pixels as its codes only when they are (x_scale = 1/q_max,
    // one unsigned digit, not a float32 job); otherwise the DPU makes its digit planes.
    const bool pixel_codes = passes == 1 && !opt.float_inputs && std::fabs(double(d.x_scale) * d.q_max - 1.0) <= 1e-6;
    const bool split = passes > 1 || (i == 0 && !pixel_codes);
    uint64_t ext = 0;  // DPU ops that split the input into digit planes (docs/network.md)
    if (split) {
      planes = std::max(planes, passes * in_sz);
      ext = nsign * (d.digits == 1 ? 1 : 2ull * d.digits - 2);
    }
    if (passes > 1) sum = std::max(sum, 4 * P * d.n);
    if (d.digits >= 3) tmp = std::max(tmp, 4 * in_sz);
    if (d.flags & CIMNET_F_RES_SOURCE) res_total += al(4 * out_sz);  // per image; batched below
    // One layer's chains: a DMA descriptor per row block, DPU ops (the larger of one pass's
    // accumulation and the digit split), and 32 float constants of the split.
    // (A second weight digit adds one op to the final chain.)
    const uint64_t final_ops = d.row_blocks + (d.wdigits == 2 ? 1 : 0);
    desc_need = std::max<uint64_t>(desc_need, uint64_t(d.row_blocks) * DMA_DESC_BYTES +
                                                  std::max<uint64_t>(final_ops, ext) * DPU_OP_BYTES + (ext ? 128 : 0));
  }
  const uint64_t per_image = al(act) * 2 + al(codes) + al(acc) + al(planes) + al(sum) + al(tmp) + res_total + 256;
  // Descriptor scratch: one layer's DMA and DPU chains, plus the argmax results.
  const uint64_t desc_fixed = al(desc_need);
  const uint64_t sram_avail = opt.sram_bytes > desc_fixed ? opt.sram_bytes - desc_fixed : 0;
  uint64_t batch = std::min<uint64_t>(opt.max_batch, sram_avail / (per_image + 4));
  if (batch < 1) {
    std::ostringstream s;
    s << g.source << ": one image needs " << per_image << " bytes of SRAM buffers but the chip has " << opt.sram_bytes
      << ": enlarge the sram entry of memory_map";
    throw std::runtime_error(s.str());
  }
  const uint64_t a_off = 0, b_off = al(act * batch), c_off = b_off + al(act * batch), acc_off = c_off + al(codes * batch);
  const uint64_t planes_off = acc_off + al(acc * batch), sum_off = planes_off + al(planes * batch);
  const uint64_t tmp_off = sum_off + al(sum * batch);
  uint64_t res_off = tmp_off + al(tmp * batch);
  for (std::size_t i = 0; i < p.layers.size(); ++i) {
    auto& d = p.layers[i].desc;
    if (i + 1 < p.layers.size()) {  // the DPU requantises to the next layer's codes
      d.out_scale = p.layers[i + 1].desc.x_scale;
      d.out_q_max = p.layers[i + 1].desc.q_max;
    }
    // Each layer reads the buffer the previous one wrote; it writes the other ping-pong
    // buffer, or its own when a later layer adds its output as a residual.
    d.sram_in = static_cast<uint32_t>(i == 0 ? a_off : p.layers[i - 1].desc.sram_out);
    if (d.flags & CIMNET_F_RES_SOURCE) {
      d.sram_out = static_cast<uint32_t>(res_off);
      res_off += al(4ull * d.out_c * d.out_h * d.out_w * batch);
    } else {
      d.sram_out = static_cast<uint32_t>(d.sram_in == a_off ? b_off : a_off);
    }
    d.sram_codes = static_cast<uint32_t>(c_off);
    d.sram_acc = static_cast<uint32_t>(acc_off);
  }
  const uint64_t desc_off = res_off;
  const uint64_t desc_bytes = desc_fixed + al(4 * batch);
  const uint64_t sram_need = desc_off + desc_bytes;
  if (sram_need > 0xFFFFFFFFull) throw std::runtime_error(g.source + ": SRAM plan exceeds 4 GiB");

  auto& h = net.header;
  h.magic = CIMNET_MAGIC;
  h.version = CIMNET_VERSION;
  h.header_bytes = sizeof(cimnet_header_t);
  h.flags = opt.ideal ? CIMNET_HF_IDEAL : 0;
  h.n_layers = static_cast<uint32_t>(p.layers.size());
  h.layer_bytes = sizeof(cimnet_layer_t);
  h.n_tiles = next_tile;
  h.tile_bytes = sizeof(cimnet_tile_t);
  h.batch = static_cast<uint32_t>(batch);
  h.sram_bytes = static_cast<uint32_t>(sram_need);
  h.sram_desc = static_cast<uint32_t>(desc_off);
  h.sram_desc_bytes = static_cast<uint32_t>(desc_bytes);
  h.sram_planes = static_cast<uint32_t>(planes_off);
  h.sram_planes_bytes = static_cast<uint32_t>(planes * batch);
  h.sram_sum = static_cast<uint32_t>(sum_off);
  h.sram_sum_bytes = static_cast<uint32_t>(sum * batch);
  h.sram_tmp = static_cast<uint32_t>(tmp_off);
  h.sram_tmp_bytes = static_cast<uint32_t>(tmp * batch);
  const auto& d0 = p.layers.front().desc;
  h.in_c = d0.in_c;
  h.in_h = d0.in_h;
  h.in_w = d0.in_w;
  const auto& dl = p.layers.back().desc;
  h.out_count = dl.out_c * dl.out_h * dl.out_w;
  h.rows = static_cast<uint32_t>(m.rows);
  h.cols = static_cast<uint32_t>(m.cols);
  h.input_bits = static_cast<uint32_t>(m.input_bits);
  h.weight_bits = static_cast<uint32_t>(m.weight_bits);
  h.cell_bits = static_cast<uint32_t>(m.cell_bits);
  net.layers = std::move(p.layers);
  for (const auto& l : net.layers) {
    std::ostringstream s;
    const auto& d = l.desc;
    s << l.name << ": " << (d.op == CIMNET_OP_CONV ? "conv" : "fc") << " K=" << d.k << " N=" << d.out_c
      << (d.wdigits == 2 ? " (x2 weight digits)" : "") << " positions="
      << d.mm_h * d.mm_w << " tiles=" << d.row_blocks << "x" << d.col_blocks << " x_scale=" << d.x_scale
      << ((d.flags & CIMNET_F_SIGNED_INPUT) ? " signed" : "") << ((d.flags & CIMNET_F_RELU) ? " relu" : "")
      << ((d.flags & CIMNET_F_POOL_MAX) ? " maxpool" : "") << ((d.flags & CIMNET_F_POOL_AVG) ? " avgpool" : "")
      << ((d.flags & CIMNET_F_SOFTMAX) ? " softmax" : "");
    net.notes.push_back(s.str());
  }
  return net;
}

// ---------------------------------------------------------------------------------------
// Image
// ---------------------------------------------------------------------------------------

namespace {
void put(std::vector<uint8_t>& b, std::size_t off, const void* p, std::size_t n) { std::memcpy(b.data() + off, p, n); }
}  // namespace

std::vector<uint8_t> serialize(const Network& net) {
  cimnet_header_t h = net.header;
  std::size_t off = sizeof(h);
  h.layers_off = static_cast<uint32_t>(off);
  off += net.layers.size() * sizeof(cimnet_layer_t);
  h.tiles_off = static_cast<uint32_t>(off);
  off += net.tiles.size() * sizeof(cimnet_tile_t);
  std::vector<cimnet_layer_t> layers;
  for (const auto& l : net.layers) {
    cimnet_layer_t d = l.desc;
    d.dpu_off = static_cast<uint32_t>(off);
    off += 8ull * d.n;
    layers.push_back(d);
  }
  std::vector<cimnet_tile_t> tiles;
  for (const auto& t : net.tiles) {
    cimnet_tile_t r = t.rec;
    r.codes_off = static_cast<uint32_t>(off);
    off += 4ull * r.k * r.n;
    r.targets_off = static_cast<uint32_t>(off);
    off += 4ull * t.block.targets_us.rows() * t.block.targets_us.cols();
    tiles.push_back(r);
  }
  if (off > 0xFFFFFFFFull) throw std::runtime_error("compiler: network image exceeds 4 GiB");
  h.total_bytes = static_cast<uint32_t>(off);
  std::vector<uint8_t> b(off, 0);
  put(b, 0, &h, sizeof(h));
  for (std::size_t i = 0; i < layers.size(); ++i) {
    put(b, h.layers_off + i * sizeof(cimnet_layer_t), &layers[i], sizeof(cimnet_layer_t));
    const auto& l = net.layers[i];
    std::vector<float> bias(l.bias.data(), l.bias.data() + l.bias.size());
    put(b, layers[i].dpu_off, l.dpu_scale.data(), 4 * l.dpu_scale.size());
    put(b, layers[i].dpu_off + 4 * l.dpu_scale.size(), bias.data(), 4 * bias.size());
  }
  for (std::size_t i = 0; i < tiles.size(); ++i) {
    put(b, h.tiles_off + i * sizeof(cimnet_tile_t), &tiles[i], sizeof(cimnet_tile_t));
    const auto& blk = net.tiles[i].block;
    std::vector<int32_t> codes(static_cast<std::size_t>(tiles[i].k) * tiles[i].n);
    for (uint32_t r = 0; r < tiles[i].k; ++r)
      for (uint32_t c = 0; c < tiles[i].n; ++c) codes[r * tiles[i].n + c] = blk.codes(r, c);
    put(b, tiles[i].codes_off, codes.data(), 4 * codes.size());
    // Row-major targets.
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> t = blk.targets_us;
    put(b, tiles[i].targets_off, t.data(), 4 * static_cast<std::size_t>(t.size()));
  }
  return b;
}

Image::Image(std::vector<uint8_t> bytes, const std::string& source) : bytes_(std::move(bytes)) {
  auto bad = [&](const std::string& m) { throw nn::ModelError(source + ": not a valid cimnet image: " + m); };
  if (bytes_.size() < sizeof(cimnet_header_t)) bad("shorter than the 128-byte header");
  std::memcpy(&hdr_, bytes_.data(), sizeof(hdr_));
  if (hdr_.magic != CIMNET_MAGIC) bad("bad magic at byte 0 (expected \"CNET\")");
  if (hdr_.version != CIMNET_VERSION)
    bad("version " + std::to_string(hdr_.version) + " at byte 4; this build reads version " + std::to_string(CIMNET_VERSION) +
        " (recompile the model)");
  if (hdr_.header_bytes != sizeof(cimnet_header_t) || hdr_.layer_bytes != sizeof(cimnet_layer_t) ||
      hdr_.tile_bytes != sizeof(cimnet_tile_t))
    bad("record sizes do not match this build");
  if (hdr_.total_bytes != bytes_.size())
    bad("total_bytes " + std::to_string(hdr_.total_bytes) + " but the file has " + std::to_string(bytes_.size()) +
        " bytes (truncated?)");
  auto in_range = [&](uint64_t off, uint64_t n) { return off + n <= bytes_.size(); };
  if (!in_range(hdr_.layers_off, uint64_t(hdr_.n_layers) * sizeof(cimnet_layer_t))) bad("layer table out of range");
  if (!in_range(hdr_.tiles_off, uint64_t(hdr_.n_tiles) * sizeof(cimnet_tile_t))) bad("tile table out of range");
  layers_.resize(hdr_.n_layers);
  tiles_.resize(hdr_.n_tiles);
  std::memcpy(layers_.data(), bytes_.data() + hdr_.layers_off, layers_.size() * sizeof(cimnet_layer_t));
  std::memcpy(tiles_.data(), bytes_.data() + hdr_.tiles_off, tiles_.size() * sizeof(cimnet_tile_t));
  for (std::size_t i = 0; i < layers_.size(); ++i)
    if (!in_range(layers_[i].dpu_off, 8ull * layers_[i].n)) bad("layer " + std::to_string(i) + " DPU table out of range");
  if (uint64_t(hdr_.sram_desc) + hdr_.sram_desc_bytes > hdr_.sram_bytes)
    bad("descriptor scratch (sram_desc at byte " + std::to_string(offsetof(cimnet_header_t, sram_desc)) +
        ") lies outside sram_bytes");
  auto in_sram = [&](uint64_t off, uint64_t n) { return off + n <= hdr_.sram_bytes; };
  if (!in_sram(hdr_.sram_planes, hdr_.sram_planes_bytes) || !in_sram(hdr_.sram_sum, hdr_.sram_sum_bytes) ||
      !in_sram(hdr_.sram_tmp, hdr_.sram_tmp_bytes))
    bad("multi-pass buffers (sram_planes/sram_sum/sram_tmp at byte " + std::to_string(offsetof(cimnet_header_t, sram_planes)) +
        ") lie outside sram_bytes");
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    const auto& l = layers_[i];
    if ((l.flags & CIMNET_F_RESIDUAL) && (l.res_layer == 0 || l.res_layer > i))
      bad("layer " + std::to_string(i) + " adds the residual of layer " + std::to_string(int64_t(l.res_layer) - 1) +
          ", which is not an earlier layer");
  }
  for (std::size_t i = 0; i < tiles_.size(); ++i) {
    const auto& t = tiles_[i];
    if (t.layer >= layers_.size() || t.k > hdr_.rows || !in_range(t.codes_off, 4ull * t.k * t.n) ||
        !in_range(t.targets_off, 4ull * hdr_.rows * hdr_.cols))
      bad("tile record " + std::to_string(i) + " is inconsistent");
  }
}

crossbar::MappedBlock Image::block(std::size_t i) const {
  const auto& t = tiles_.at(i);
  crossbar::MappedBlock b;
  b.k = static_cast<int>(t.k);
  b.n = static_cast<int>(t.n);
  b.used_cols = static_cast<int>(t.used_cols);
  b.codes.resize(t.k, t.n);
  std::vector<int32_t> c(static_cast<std::size_t>(t.k) * t.n);
  std::memcpy(c.data(), bytes_.data() + t.codes_off, 4 * c.size());
  for (uint32_t r = 0; r < t.k; ++r)
    for (uint32_t j = 0; j < t.n; ++j) b.codes(r, j) = c[r * t.n + j];
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> g(hdr_.rows, hdr_.cols);
  std::memcpy(g.data(), bytes_.data() + t.targets_off, 4ull * hdr_.rows * hdr_.cols);
  b.targets_us = g;
  return b;
}

const float* Image::dpu_scale(std::size_t l) const {
  return reinterpret_cast<const float*>(bytes_.data() + layers_.at(l).dpu_off);
}
const float* Image::dpu_bias(std::size_t l) const { return dpu_scale(l) + layers_.at(l).n; }

nn::Tensor fashion_mnist_calibration(std::size_t n, const std::string& dir) {
  auto set = dataset::load_fashion_mnist(dataset::Split::Train, dir);
  if (n > set.count) n = set.count;
  return nn::Tensor({static_cast<int64_t>(n), 1, static_cast<int64_t>(set.rows), static_cast<int64_t>(set.cols)},
                    set.to_float(0, n));
}

}  // namespace cimvp::compiler
