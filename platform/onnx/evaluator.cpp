// Reference evaluator: one plain function per operator, nested loops, double accumulators.
// Spatial operators treat 1-D/2-D/3-D uniformly by padding the geometry to three dims.
#include "platform/onnx/evaluator.hpp"
#include "platform/onnx/onnx_import.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <thread>
#include <vector>

namespace cimvp::nn {

namespace {

// Offset into a tensor of shape `src` (right-aligned, size-1 dims broadcast) for the
// multi-index `idx` of the broadcast output shape.
int64_t broadcast_offset(const std::vector<int64_t>& idx, const Shape& src) {
  const size_t off = idx.size() - src.size();
  int64_t o = 0;
  for (size_t i = 0; i < src.size(); ++i) o = o * src[i] + (src[i] == 1 ? 0 : idx[i + off]);
  return o;
}

// Iterate all multi-indices of `shape` in C order.
bool next_index(std::vector<int64_t>& idx, const Shape& shape) {
  for (int64_t i = static_cast<int64_t>(shape.size()) - 1; i >= 0; --i) {
    if (++idx[i] < shape[i]) return true;
    idx[i] = 0;
  }
  return false;
}

// Geometry padded to three spatial dims (leading dims of extent 1).
struct Geo3 {
  int64_t in[3], k[3], s[3], d[3], pb[3], pe[3], out[3];
};
Geo3 to3(const WindowGeometry& w) {
  Geo3 g{};
  const size_t ns = w.in.size(), lead = 3 - ns;
  for (size_t i = 0; i < 3; ++i) {
    const bool real = i >= lead;
    const size_t j = real ? i - lead : 0;
    g.in[i] = real ? w.in[j] : 1;
    g.k[i] = real ? w.kernel[j] : 1;
    g.s[i] = real ? w.stride[j] : 1;
    g.d[i] = real ? w.dilation[j] : 1;
    g.pb[i] = real ? w.pad_begin[j] : 0;
    g.pe[i] = real ? w.pad_end[j] : 0;
    g.out[i] = real ? w.out[j] : 1;
  }
  return g;
}

Tensor conv(const Graph& g, const Node& n, const Tensor& x, const Tensor& w, const Tensor* b, const Shape& oshape) {
  std::vector<int64_t> k(w.shape.begin() + 2, w.shape.end());
  const Geo3 q = to3(window_geometry(g, n, x.shape, k));
  const int64_t N = x.shape[0], C = x.shape[1], M = w.shape[0];
  const int64_t plane = q.out[0] * q.out[1] * q.out[2];
  Tensor y(oshape);
  // Output plane (image nn, channel m): the direct sum, in double, in a fixed order.
  auto one_plane = [&](int64_t nn, int64_t m) {
    int64_t yi = (nn * M + m) * plane;
    for (int64_t od = 0; od < q.out[0]; ++od)
      for (int64_t oh = 0; oh < q.out[1]; ++oh)
        for (int64_t ow = 0; ow < q.out[2]; ++ow) {
          double acc = b ? b->data[m] : 0.0;
          for (int64_t c = 0; c < C; ++c)
            for (int64_t kd = 0; kd < q.k[0]; ++kd) {
              const int64_t id = od * q.s[0] - q.pb[0] + kd * q.d[0];
              if (id < 0 || id >= q.in[0]) continue;  // padding
              for (int64_t kh = 0; kh < q.k[1]; ++kh) {
                const int64_t ih = oh * q.s[1] - q.pb[1] + kh * q.d[1];
                if (ih < 0 || ih >= q.in[1]) continue;
                const float* xr = &x.data[(((nn * C + c) * q.in[0] + id) * q.in[1] + ih) * q.in[2]];
                const float* wr = &w.data[(((m * C + c) * q.k[0] + kd) * q.k[1] + kh) * q.k[2]];
                for (int64_t kw = 0; kw < q.k[2]; ++kw) {
                  const int64_t iw = ow * q.s[2] - q.pb[2] + kw * q.d[2];
                  if (iw < 0 || iw >= q.in[2]) continue;
                  acc += static_cast<double>(xr[iw]) * static_cast<double>(wr[kw]);
                }
              }
            }
          y.data[yi++] = static_cast<float>(acc);
        }
  };
  // Planes are independent and each is summed in the same order whoever computes it, so
  // splitting them over threads changes the speed only (VGG8's scale calibration: 2x on 2 cores).
  const int64_t planes = N * M;
  const double macs = static_cast<double>(planes) * plane * C * q.k[0] * q.k[1] * q.k[2];
  const unsigned hc = std::max(1u, std::min(8u, std::thread::hardware_concurrency()));
  const unsigned nt = macs < 4e6 ? 1u : static_cast<unsigned>(std::min<int64_t>(hc, planes));
  std::atomic<int64_t> next{0};
  auto work = [&] {
    for (int64_t p; (p = next.fetch_add(1)) < planes;) one_plane(p / M, p % M);
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < nt; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  return y;
}

std::vector<Tensor> pool(const Graph& g, const Node& n, const Tensor& x, const Shape& oshape) {
  const bool is_max = n.op_type == "MaxPool";
  const Geo3 q = to3(window_geometry(g, n, x.shape, n.get_ints("kernel_shape", {})));
  const bool include_pad = n.get_int("count_include_pad", 0) != 0;
  const bool col_major = n.get_int("storage_order", 0) != 0;
  const int64_t NC = x.shape[0] * x.shape[1];
  const int64_t plane = q.in[0] * q.in[1] * q.in[2];
  Tensor y(oshape), idx(oshape);
  int64_t yi = 0;
  for (int64_t nc = 0; nc < NC; ++nc)
    for (int64_t od = 0; od < q.out[0]; ++od)
      for (int64_t oh = 0; oh < q.out[1]; ++oh)
        for (int64_t ow = 0; ow < q.out[2]; ++ow) {
          double best = -std::numeric_limits<double>::infinity();
          int64_t best_at = -1;
          double sum = 0.0;
          int64_t count = 0, padded_count = 1;
          const int64_t o[3] = {od, oh, ow};
          for (int a = 0; a < 3; ++a) {
            // count_include_pad counts explicit padding but not the ceil_mode overhang beyond it.
            const int64_t start = o[a] * q.s[a] - q.pb[a];
            const int64_t end = std::min(start + (q.k[a] - 1) * q.d[a] + 1, q.in[a] + q.pe[a]);
            padded_count *= (end - start + q.d[a] - 1) / q.d[a];
          }
          for (int64_t kd = 0; kd < q.k[0]; ++kd)
            for (int64_t kh = 0; kh < q.k[1]; ++kh)
              for (int64_t kw = 0; kw < q.k[2]; ++kw) {
                const int64_t id = od * q.s[0] - q.pb[0] + kd * q.d[0];
                const int64_t ih = oh * q.s[1] - q.pb[1] + kh * q.d[1];
                const int64_t iw = ow * q.s[2] - q.pb[2] + kw * q.d[2];
                if (id < 0 || id >= q.in[0] || ih < 0 || ih >= q.in[1] || iw < 0 || iw >= q.in[2]) continue;
                const int64_t off = (id * q.in[1] + ih) * q.in[2] + iw;
                const double v = x.data[nc * plane + off];
                sum += v;
                ++count;
                if (v > best) {
                  best = v;
                  // Indices: flat over N,C then the spatial dims, row- or column-major (storage_order).
                  const int64_t sp = col_major ? (iw * q.in[1] + ih) * q.in[0] + id : off;
                  best_at = nc * plane + sp;
                }
              }
          if (is_max) {
            y.data[yi] = static_cast<float>(best);
            idx.data[yi] = static_cast<float>(best_at);
          } else {
            y.data[yi] = static_cast<float>(sum / static_cast<double>(include_pad ? padded_count : count));
          }
          ++yi;
        }
  if (is_max) return {y, idx};
  return {y};
}

Tensor gemm(const Node& n, const Tensor& a, const Tensor& b, const Tensor* c, const Shape& oshape) {
  const bool ta = n.get_int("transA", 0) != 0, tb = n.get_int("transB", 0) != 0;
  const double alpha = n.get_float("alpha", 1.0f), beta = n.get_float("beta", 1.0f);
  const int64_t M = oshape[0], N = oshape[1], K = ta ? a.shape[0] : a.shape[1];
  Tensor y(oshape);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double acc = 0.0;
      for (int64_t k = 0; k < K; ++k) {
        const double av = ta ? a.data[k * M + i] : a.data[i * K + k];
        const double bv = tb ? b.data[j * K + k] : b.data[k * N + j];
        acc += av * bv;
      }
      double cv = 0.0;
      if (c) cv = c->data[broadcast_offset({i, j}, c->shape)];
      y.data[i * N + j] = static_cast<float>(alpha * acc + beta * cv);
    }
  return y;
}

Tensor matmul(const Tensor& a0, const Tensor& b0, const Shape& oshape) {
  Shape a = a0.shape, b = b0.shape;
  if (a.size() == 1) a.insert(a.begin(), 1);
  if (b.size() == 1) b.push_back(1);
  const int64_t M = a[a.size() - 2], K = a.back(), N = b.back();
  Shape batch_a(a.begin(), a.end() - 2), batch_b(b.begin(), b.end() - 2);
  Shape batch = broadcast_shapes(batch_a, batch_b, "MatMul");
  Tensor y(oshape);
  std::vector<int64_t> bi(batch.size(), 0);
  int64_t yi = 0;
  do {
    const int64_t oa = broadcast_offset(bi, batch_a) * M * K;
    const int64_t ob = broadcast_offset(bi, batch_b) * K * N;
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double acc = 0.0;
        for (int64_t k = 0; k < K; ++k) acc += double(a0.data[oa + i * K + k]) * b0.data[ob + k * N + j];
        y.data[yi++] = static_cast<float>(acc);
      }
  } while (next_index(bi, batch));
  return y;
}

Tensor add(const Graph& g, const Node& n, const Tensor& a, const Tensor& b, const Shape& oshape) {
  Shape bs = b.shape;
  if (g.opset < 7 && n.get_int("broadcast", 0) != 0) {
    // Legacy broadcast: B aligns with A starting at `axis`; pad B's shape to A's rank.
    const int64_t ra = static_cast<int64_t>(a.shape.size()), rb = static_cast<int64_t>(b.shape.size());
    int64_t axis = n.has("axis") ? n.get_int("axis", 0) : ra - rb;
    if (axis < 0) axis += ra;
    bs.assign(static_cast<size_t>(ra), 1);
    for (int64_t i = 0; i < rb; ++i) bs[axis + i] = b.shape[i];
  }
  Tensor y(oshape);
  std::vector<int64_t> idx(oshape.size(), 0);
  int64_t yi = 0;
  if (y.data.empty()) return y;
  do {
    y.data[yi++] = a.data[broadcast_offset(idx, a.shape)] + b.data[broadcast_offset(idx, bs)];
  } while (next_index(idx, oshape));
  return y;
}

Tensor batchnorm(const Graph& g, const Node& n, const Tensor& x, const Tensor& scale, const Tensor& bias,
                 const Tensor& mean, const Tensor& var) {
  const double eps = n.get_float("epsilon", 1e-5f);
  const bool per_activation = g.opset < 9 && n.get_int("spatial", 1) == 0;
  const int64_t N = x.shape[0], C = x.shape[1];
  const int64_t inner = numel(x.shape) / std::max<int64_t>(1, N * C);
  Tensor y(x.shape);
  for (int64_t nn = 0; nn < N; ++nn)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < inner; ++i) {
        const int64_t p = per_activation ? c * inner + i : c;
        const int64_t xi = (nn * C + c) * inner + i;
        y.data[xi] = static_cast<float>((x.data[xi] - double(mean.data[p])) / std::sqrt(double(var.data[p]) + eps) *
                                            scale.data[p] + bias.data[p]);
      }
  return y;
}

Tensor softmax(const Graph& g, const Node& n, const Tensor& x) {
  const int64_t r = static_cast<int64_t>(x.shape.size());
  int64_t axis = n.get_int("axis", g.opset >= 13 ? -1 : 1);
  if (axis < 0) axis += r;
  Tensor y(x.shape);
  if (g.opset < 13) {
    // Opset < 13: coerce to 2-D [prod(dims < axis), prod(dims >= axis)], softmax each row.
    int64_t rows = 1, cols = 1;
    for (int64_t i = 0; i < r; ++i) (i < axis ? rows : cols) *= x.shape[i];
    for (int64_t i = 0; i < rows; ++i) {
      double mx = -std::numeric_limits<double>::infinity(), sum = 0.0;
      for (int64_t j = 0; j < cols; ++j) mx = std::max(mx, double(x.data[i * cols + j]));
      for (int64_t j = 0; j < cols; ++j) sum += std::exp(x.data[i * cols + j] - mx);
      for (int64_t j = 0; j < cols; ++j) y.data[i * cols + j] = static_cast<float>(std::exp(x.data[i * cols + j] - mx) / sum);
    }
    return y;
  }
  // Opset >= 13: softmax along the single dimension `axis`.
  int64_t outer = 1, inner = 1;
  const int64_t len = x.shape[axis];
  for (int64_t i = 0; i < axis; ++i) outer *= x.shape[i];
  for (int64_t i = axis + 1; i < r; ++i) inner *= x.shape[i];
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t j) { return (o * len + j) * inner + i; };
      double mx = -std::numeric_limits<double>::infinity(), sum = 0.0;
      for (int64_t j = 0; j < len; ++j) mx = std::max(mx, double(x.data[at(j)]));
      for (int64_t j = 0; j < len; ++j) sum += std::exp(x.data[at(j)] - mx);
      for (int64_t j = 0; j < len; ++j) y.data[at(j)] = static_cast<float>(std::exp(x.data[at(j)] - mx) / sum);
    }
  return y;
}

}  // namespace

std::vector<Tensor> evaluate_node(const Graph& g, const Node& n, const std::vector<const Tensor*>& in) {
  std::vector<Shape> shapes;
  for (const Tensor* t : in) shapes.push_back(t ? t->shape : Shape{});
  const std::vector<Shape> os = node_output_shapes(g, n, shapes);
  const std::string& op = n.op_type;
  auto opt = [&](size_t i) { return i < in.size() ? in[i] : nullptr; };
  if (op == "Relu") {
    Tensor y = *in[0];
    for (float& v : y.data) v = v > 0.0f ? v : 0.0f;
    return {y};
  }
  if (op == "Identity") return {*in[0]};
  if (op == "Dropout") return {*in[0], Tensor(in[0]->shape, 1.0f)};  // inference: mask all true
  if (op == "Conv") return {conv(g, n, *in[0], *in[1], opt(2), os[0])};
  if (op == "MaxPool" || op == "AveragePool") return pool(g, n, *in[0], os[0]);
  if (op == "GlobalAveragePool") {
    const int64_t NC = in[0]->shape[0] * in[0]->shape[1];
    const int64_t plane = NC ? numel(in[0]->shape) / NC : 0;
    Tensor y(os[0]);
    for (int64_t i = 0; i < NC; ++i) {
      double s = 0.0;
      for (int64_t j = 0; j < plane; ++j) s += in[0]->data[i * plane + j];
      y.data[i] = static_cast<float>(s / static_cast<double>(plane));
    }
    return {y};
  }
  if (op == "Gemm") return {gemm(n, *in[0], *in[1], opt(2), os[0])};
  if (op == "MatMul") return {matmul(*in[0], *in[1], os[0])};
  if (op == "Add") return {add(g, n, *in[0], *in[1], os[0])};
  if (op == "BatchNormalization") return {batchnorm(g, n, *in[0], *in[1], *in[2], *in[3], *in[4])};
  if (op == "Softmax") return {softmax(g, n, *in[0])};
  if (op == "Flatten" || op == "Reshape") return {Tensor(os[0], in[0]->data)};
  throw ModelError(g.source + ": " + n.label() + ": operator not implemented by the reference evaluator");
}

std::map<std::string, Tensor> evaluate(const Graph& g, const std::map<std::string, Tensor>& inputs, bool keep_all) {
  std::map<std::string, Shape> in_shapes;
  for (const ValueInfo& v : g.inputs) {
    auto it = inputs.find(v.name);
    if (it == inputs.end()) throw ModelError(g.source + ": graph input '" + v.name + "' was not provided");
    in_shapes[v.name] = it->second.shape;
  }
  infer_shapes(g, in_shapes);  // checks inputs against declared shapes, all shapes consistent
  std::map<std::string, Tensor> values;
  for (const ValueInfo& v : g.inputs) values[v.name] = inputs.at(v.name);
  auto lookup = [&](const std::string& name) -> const Tensor* {
    if (name.empty()) return nullptr;
    auto it = values.find(name);
    if (it != values.end()) return &it->second;
    return g.initializer(name);
  };
  for (const Node& n : g.nodes) {
    std::vector<const Tensor*> in;
    for (const std::string& i : n.inputs) in.push_back(lookup(i));
    std::vector<Tensor> out = evaluate_node(g, n, in);
    for (size_t o = 0; o < n.outputs.size() && o < out.size(); ++o)
      if (!n.outputs[o].empty()) values[n.outputs[o]] = std::move(out[o]);
  }
  if (keep_all) return values;
  std::map<std::string, Tensor> result;
  for (const ValueInfo& o : g.outputs) result[o.name] = *lookup(o.name);
  return result;
}

Tensor evaluate(const Graph& g, const Tensor& input) {
  if (g.inputs.size() != 1 || g.outputs.size() != 1)
    throw ModelError(g.source + ": evaluate(graph, tensor) needs exactly one input and one output (model has " +
                     std::to_string(g.inputs.size()) + " and " + std::to_string(g.outputs.size()) + ")");
  return evaluate(g, {{g.inputs[0].name, input}}).at(g.outputs[0].name);
}

}  // namespace cimvp::nn
