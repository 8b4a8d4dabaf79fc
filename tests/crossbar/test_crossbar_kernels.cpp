// The crossbar's two hot kernels against independent references, and their AVX2 and generic
// builds against each other (same bits, so results never depend on the machine's CPU).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "models/crossbar/bitplane_product.hpp"
#include "models/crossbar/normal_fill.hpp"

using namespace cimvp::crossbar;

namespace {

struct BinaryCase {
  int rows, k, ut, utp;
  Eigen::MatrixXf v;              // rows x k, 0/1
  Eigen::MatrixXf r;              // k x ut
  std::vector<float> r_rows;      // k x utp row-major, zero padded
  std::vector<std::uint16_t> idx;  // rows x k, set columns first
  std::vector<std::uint32_t> count;
};

BinaryCase make_case(int rows, int k, int ut, double density, std::uint64_t seed) {
  BinaryCase c{rows, k, ut, (ut + 7) / 8 * 8, {}, {}, {}, {}, {}};
  std::mt19937_64 g(seed);
  std::bernoulli_distribution bit(density);
  std::normal_distribution<float> nd(0.f, 20.f);
  c.v = Eigen::MatrixXf::Zero(rows, k);
  c.r.resize(k, ut);
  c.idx.assign(std::size_t(rows) * k, 0);
  c.count.assign(std::size_t(rows), 0);
  for (int j = 0; j < ut; ++j)
    for (int i = 0; i < k; ++i) c.r(i, j) = nd(g);
  for (int i = 0; i < rows; ++i)
    for (int kk = 0; kk < k; ++kk)
      if (bit(g)) {
        c.v(i, kk) = 1.f;
        c.idx[std::size_t(i) * k + c.count[i]++] = std::uint16_t(kk);
      }
  c.r_rows.assign(std::size_t(k) * c.utp, 0.f);
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < ut; ++j) c.r_rows[std::size_t(i) * c.utp + j] = c.r(i, j);
  return c;
}

Eigen::MatrixXf run(const BinaryCase& c, ProductPath path) {
  Eigen::MatrixXf p = Eigen::MatrixXf::Constant(c.rows, c.ut, -999.f);
  std::vector<float> scratch(std::size_t(8) * c.utp + 8);
  bitplane_product(c.idx.data(), std::size_t(c.k), c.count.data(), c.rows, c.r_rows.data(), c.utp, c.ut, p.data(),
                   std::size_t(c.rows), scratch.data(), path);
  return p;
}

}  // namespace

// Shapes: row counts on and off the 8-row blocks, column counts on and off the 8-column
// transposes and the 12-vector passes, densities from empty to full rows.
TEST_CASE("bit-plane product equals the dense product, bit for bit", "[crossbar][kernel]") {
  const int shapes[][3] = {{1, 1, 1}, {7, 5, 3}, {8, 128, 129}, {13, 64, 65}, {256, 128, 129}, {40, 33, 200}};
  for (const auto& s : shapes)
    for (double density : {0.0, 0.3, 1.0}) {
      const BinaryCase c = make_case(s[0], s[1], s[2], density, 7 + s[0]);
      const Eigen::MatrixXf got = run(c, ProductPath::Generic);
      // Independent reference: double-precision sums (float rounding only in the kernel).
      const Eigen::MatrixXd ref = c.v.cast<double>() * c.r.cast<double>();
      const double tol = 1e-5 * (1.0 + ref.cwiseAbs().maxCoeff()) * s[1];
      INFO("rows " << s[0] << " k " << s[1] << " ut " << s[2] << " density " << density);
      REQUIRE((got.cast<double>() - ref).cwiseAbs().maxCoeff() <= tol);
      // Dense float product, accumulated over k in order (what the MVM used before): the same
      // floats, since adding 0 * g never changes a sum.
      Eigen::MatrixXf dense = Eigen::MatrixXf::Zero(c.rows, c.ut);
      for (int i = 0; i < c.rows; ++i)
        for (int j = 0; j < c.ut; ++j) {
          float a = 0.f;
          for (int kk = 0; kk < c.k; ++kk) a += c.v(i, kk) * c.r(kk, j);
          dense(i, j) = a;
        }
      REQUIRE(got == dense);
      if (cpu_has_avx2()) REQUIRE(run(c, ProductPath::Avx2) == got);
    }
}

TEST_CASE("bit-plane product: known 2x2 case and bad shapes", "[crossbar][kernel]") {
  // rows {1,1} and {0,1} of R = [[1,2],[3,4]]: [4,6] and [3,4].
  const std::vector<float> r = {1, 2, 0, 0, 0, 0, 0, 0, 3, 4, 0, 0, 0, 0, 0, 0};
  const std::vector<std::uint16_t> idx = {0, 1, 1, 0};
  const std::vector<std::uint32_t> count = {2, 1};
  std::vector<float> p(4, -1.f), scratch(64);
  bitplane_product(idx.data(), 2, count.data(), 2, r.data(), 8, 2, p.data(), 2, scratch.data());
  REQUIRE(p == std::vector<float>{4, 3, 6, 4});  // column-major
  REQUIRE_THROWS_WITH(bitplane_product(idx.data(), 2, count.data(), 2, r.data(), 6, 2, p.data(), 2, scratch.data()),
                      Catch::Contains("multiple of 8"));
}

TEST_CASE("block normals: AVX2 and generic builds give the same bits", "[crossbar][rng]") {
  for (std::size_t n : {std::size_t(1), std::size_t(15), std::size_t(16), std::size_t(1001), std::size_t(65537)}) {
    std::vector<float> a(n), b(n);
    normal_fill(99 + n, a.data(), n, NormalPath::Generic);
    normal_fill(99 + n, b.data(), n, NormalPath::Auto);
    REQUIRE(a == b);
    if (cpu_has_avx2()) {
      normal_fill(99 + n, b.data(), n, NormalPath::Avx2);
      REQUIRE(a == b);
    }
  }
}

// The log inside the generator against the C library: the Cephes polynomial is accurate to a
// few float ulps, so radius^2 = -2 ln u of every sample is checked through the pair structure:
// z[i]^2 + z[i+h]^2 = -2 ln u within float rounding, and u = exp(-r^2/2) is uniform on (0, 1].
TEST_CASE("block normals: pair radii are -2 ln U with U uniform", "[crossbar][rng]") {
  const std::size_t n = 200000, h = n / 2;
  std::vector<float> z(n);
  normal_fill(5, z.data(), n);
  std::vector<int> hist(10, 0);
  for (std::size_t i = 0; i < h; ++i) {
    const double r2 = double(z[i]) * z[i] + double(z[i + h]) * z[i + h];
    const double u = std::exp(-r2 / 2);
    REQUIRE(u > 0.0);
    REQUIRE(u <= 1.0 + 1e-6);
    ++hist[std::min(9, int(u * 10))];
  }
  for (int c : hist) REQUIRE(std::abs(c - int(h / 10)) < 5 * std::sqrt(double(h) / 10));
}
