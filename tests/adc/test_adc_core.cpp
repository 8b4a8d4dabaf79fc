// Q-cell ADC core, SR, SAR/flash baselines and INL/DNL Monte Carlo (see docs/adc.md).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "models/adc/adc_core.hpp"

using namespace cimvp::adc;

namespace {
std::vector<float> ramp(double lo, double hi, std::size_t n) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<float>(lo + (hi - lo) * (i + 0.5) / n);
  return v;
}
int nominal_code(const QCellDesign& d, float x) {
  int c = 0;
  for (double t : d.thresholds) c += x >= static_cast<float>(t) ? 1 : 0;
  return c;
}
}  // namespace

TEST_CASE("Q-cell at zero variation decodes the nominal thresholds, no gaps or overlaps", "[qcell]") {
  for (int b = 2; b <= 8; ++b) {
    QCellAdc adc(QCellDesign::uniform(b, -1.0, 3.0));
    auto x = ramp(-1.0, 3.0, 50000);
    std::vector<float> out(x.size());
    std::vector<int32_t> code(x.size());
    ConversionStats st;
    adc.quantize(x.data(), out.data(), code.data(), x.size(), &st);
    CHECK(st.conversions == x.size());
    CHECK(st.gaps == 0);
    CHECK(st.overlaps == 0);
    CHECK(st.out_of_range == 0);
    for (std::size_t i = 0; i < x.size(); ++i) {
      REQUIRE(code[i] == nominal_code(adc.design(), x[i]));
      REQUIRE(out[i] == static_cast<float>(adc.design().levels[code[i]]));
    }
  }
}

TEST_CASE("decoder policy: overlap -> lower code, gap -> nearest window, out of range counted", "[qcell]") {
  QCellAdc adc(QCellDesign::uniform(2, 0.0, 1.0));  // nominal windows [0,.25) [.25,.5) [.5,.75) [.75,1)
  // cell0 [0, .30) overlaps cell1 [.20, .45); gap (.45, .55) before cell2 [.55, .75); cell3 [.75, 1).
  adc.set_achieved_edges({0.0, 0.30, 0.20, 0.45, 0.55, 0.75, 0.75, 1.0});
  auto d = [&](double x) { return adc.decide(x); };
  CHECK(d(0.25).code == 0);
  CHECK(d(0.25).overlap);
  CHECK(d(0.35).code == 1);
  CHECK_FALSE(d(0.35).overlap);
  CHECK(d(0.47).code == 1);
  CHECK(d(0.47).gap);
  CHECK(d(0.53).code == 2);
  CHECK(d(0.53).gap);
  CHECK(d(-0.1).code == 0);
  CHECK(d(-0.1).out_of_range);
  CHECK_FALSE(d(-0.1).gap);
  CHECK(d(1.2).code == 3);
  CHECK(d(1.2).out_of_range);
  // the batch path (transfer table) agrees and counts
  std::vector<float> x = {0.25f, 0.35f, 0.47f, 0.53f, -0.1f, 1.2f};
  std::vector<float> out(x.size());
  std::vector<int32_t> c(x.size());
  ConversionStats st;
  adc.quantize(x.data(), out.data(), c.data(), x.size(), &st);
  CHECK(c == std::vector<int32_t>{0, 1, 1, 2, 0, 3});
  CHECK(st.overlaps == 1);
  CHECK(st.gaps == 2);
  CHECK(st.out_of_range == 2);
  CHECK(out[0] == Approx(0.125));
  // upper policy
  QCellAdc up(QCellDesign::uniform(2, 0.0, 1.0), OverlapPolicy::Upper);
  up.set_achieved_edges(adc.achieved_edges());
  CHECK(up.decide(0.25).code == 1);
}

TEST_CASE("batch lookup equals the brute-force decoder under heavy variation", "[qcell]") {
  std::mt19937_64 g(5);
  std::uniform_real_distribution<float> u(-0.2f, 1.2f);
  for (int b : {2, 5, 8})
    for (double f : {0.0, 0.005, 0.02, 0.05}) {
      QCellAdc adc(QCellDesign::uniform(b, 0.0, 1.0));
      adc.apply_range_fraction_variation(f, 100 + b);
      std::vector<float> x(20000);
      for (auto& v : x) v = u(g);
      for (auto e : adc.achieved_edges()) x.push_back(static_cast<float>(e));  // exact edges too
      std::vector<float> out(x.size());
      std::vector<int32_t> c(x.size());
      adc.quantize(x.data(), out.data(), c.data(), x.size(), nullptr);
      for (std::size_t i = 0; i < x.size(); ++i) REQUIRE(c[i] == adc.decide(x[i]).code);
    }
}

// The AVX2 and AVX-512 searches (transfer_simd.hpp) and the grid walk must give the same bits:
// values, codes and every counter, for every table size they take (1..32 groups), inputs exactly on the
// breakpoints and one float either side of them, +-inf and NaN, lengths off the 8-sample
// vectors, and a table with counters large enough to force early flushes.
TEST_CASE("AVX2 transfer search equals the grid walk bit for bit", "[adc][simd]") {
  std::mt19937_64 g(11);
  std::uniform_real_distribution<float> u(-0.3f, 1.3f);
  auto check = [&](const TransferTable& t) {
    if (!t.has_avx2_path() && !t.has_avx512_path()) return false;
    for (auto path : {TransferTable::Path::Avx2, TransferTable::Path::Avx512, TransferTable::Path::Auto}) {
    if (path == TransferTable::Path::Avx2 && !t.has_avx2_path()) continue;
    if (path == TransferTable::Path::Avx512 && !t.has_avx512_path()) continue;
    std::vector<float> x(5003);
    for (auto& v : x) v = u(g);
    for (float b : t.breakpoints()) {
      if (!std::isfinite(b)) continue;
      x.push_back(b);
      x.push_back(std::nextafter(b, -1e30f));
      x.push_back(std::nextafter(b, 1e30f));
    }
    x.push_back(std::numeric_limits<float>::infinity());
    x.push_back(-std::numeric_limits<float>::infinity());
    x.push_back(std::numeric_limits<float>::quiet_NaN());
    std::shuffle(x.begin(), x.end(), g);
    for (std::size_t n : {x.size(), std::size_t(7), std::size_t(8), std::size_t(21), std::size_t(37)}) {
      std::vector<float> oa(n), ob(n);
      std::vector<int32_t> ca(n), cb(n);
      ConversionStats sa, sb;
      t.apply(x.data(), oa.data(), ca.data(), n, &sa, TransferTable::Path::Grid);
      t.apply(x.data(), ob.data(), cb.data(), n, &sb, path);
      REQUIRE(std::memcmp(oa.data(), ob.data(), n * sizeof(float)) == 0);
      REQUIRE(ca == cb);
      REQUIRE(sa.conversions == sb.conversions);
      REQUIRE(sa.gaps == sb.gaps);
      REQUIRE(sa.overlaps == sb.overlaps);
      REQUIRE(sa.disagreements == sb.disagreements);
      REQUIRE(sa.out_of_range == sb.out_of_range);
      // Without codes (the platform's call) the values and counters are the same too.
      ConversionStats sc;
      t.apply(x.data(), ob.data(), nullptr, n, &sc, path);
      REQUIRE(std::memcmp(oa.data(), ob.data(), n * sizeof(float)) == 0);
      REQUIRE(sc.gaps == sa.gaps);
      REQUIRE(sc.out_of_range == sa.out_of_range);
    }
    }
    return true;
  };
  int checked = 0;
  for (int b : {2, 3, 4, 5, 6, 7})
    for (double f : {0.0, 0.01, 0.05}) {
      QCellAdc a(QCellDesign::uniform(b, 0.0, 1.0));
      a.apply_range_fraction_variation(f, 7 + b);
      checked += check(a.table());
      QCellAdc c(a.design());
      c.apply_range_fraction_variation(f, 70 + b);
      QCellSrAdc sr({a, c});
      checked += check(sr.table());
    }
  for (int b : {1, 3, 6, 7}) checked += check(UniformAdc(AdcKind::Flash, b, -1.0, 1.0, 0.01, 3).table());
  // Counters of up to 200 per conversion: the packed 8-bit fields must flush every sample.
  std::vector<double> bp = {0.1, 0.2, 0.3};
  std::vector<TransferTable::Entry> e(4);
  for (int i = 0; i < 4; ++i) {
    e[i].value = float(i);
    e[i].code = i;
    e[i].gaps = uint8_t(50 * i);
    e[i].overlaps = uint8_t(200 - 50 * i);
    e[i].disagree = uint8_t(i == 2);
    e[i].out_of_range = uint8_t(i == 0 || i == 3);
  }
  checked += check(TransferTable(bp, e));
  if (!simd::cpu_has_avx2()) {
    WARN("CPU without AVX2: only the grid walk exists here");
    return;
  }
  REQUIRE(checked >= 25);
  // The largest tables each path takes, and one past them.
  auto table_of = [](int m) {
    std::vector<double> b(static_cast<std::size_t>(m));
    for (int i = 0; i < m; ++i) b[std::size_t(i)] = i;
    std::vector<TransferTable::Entry> e(static_cast<std::size_t>(m) + 1);
    for (int i = 0; i <= m; ++i) e[std::size_t(i)].value = float(i);
    return TransferTable(b, e);
  };
  REQUIRE(table_of(127).has_avx2_path());
  REQUIRE_FALSE(table_of(128).has_avx2_path());
  REQUIRE(table_of(128).has_avx512_path() == simd::cpu_has_avx512());
  REQUIRE(table_of(255).has_avx512_path() == simd::cpu_has_avx512());
  REQUIRE_FALSE(table_of(256).has_avx512_path());
  for (int m : {90, 127, 128, 180, 200, 255}) checked += check(table_of(m));  // 12 to 32 groups
  const TransferTable too_big = table_of(128);
  std::vector<float> in(8, 0.5f), out(8);
  REQUIRE_THROWS_WITH(too_big.apply(in.data(), out.data(), nullptr, 8, nullptr, TransferTable::Path::Avx2),
                      Catch::Contains("no AVX2 path"));
}

TEST_CASE("gaps and overlaps: none at 0 %, growing with variation", "[qcell]") {
  auto x = ramp(0.0, 1.0, 100000);
  std::vector<float> out(x.size());
  double prev_g = -1, prev_o = -1;
  for (double f : {0.0, 0.0025, 0.01, 0.025, 0.05}) {
    double gsum = 0, osum = 0;
    for (int s = 0; s < 20; ++s) {
      QCellAdc adc(QCellDesign::uniform(5, 0.0, 1.0));
      adc.apply_range_fraction_variation(f, 1000 + s);
      ConversionStats st;
      adc.quantize(x.data(), out.data(), nullptr, x.size(), &st);
      gsum += st.gaps;
      osum += st.overlaps;
    }
    INFO("variation " << f << " gaps " << gsum << " overlaps " << osum);
    if (f == 0.0) {
      CHECK(gsum == 0);
      CHECK(osum == 0);
    } else if (f <= 0.025) {  // beyond ~1 LSB windows overlap wholesale and gaps shrink again
      CHECK(gsum > prev_g);
      CHECK(osum > prev_o);
      // symmetric edge errors: gaps and overlaps equally likely (expected width sigma/sqrt(pi) each)
      if (f <= 0.01) CHECK(gsum == Approx(osum).epsilon(0.35));
    }
    prev_g = gsum;
    prev_o = osum;
  }
}

TEST_CASE("edge <-> conductance transfer and conductance variation", "[qcell]") {
  EdgeTransfer t;
  t.v_lo = -2.0;
  t.v_hi = 2.0;
  CHECK(t.conductance_for_edge(-2.0) == Approx(100.0));
  CHECK(t.conductance_for_edge(2.0) == Approx(400.0));
  CHECK(t.edge_for_conductance(t.conductance_for_edge(0.7)) == Approx(0.7));
  CHECK_THROWS_AS(t.conductance_for_edge(2.5), std::invalid_argument);
  // 2.73 uS (fig3_3c mean sigma) over the 300 uS window is 0.91 % of the range
  CHECK(t.edge_sigma_for_conductance_sigma(2.73) / 4.0 == Approx(0.0091));
  QCellAdc adc(QCellDesign::uniform(3, -2.0, 2.0));
  auto g = adc.target_conductances_us();
  REQUIRE(g.size() == 16);
  adc.set_achieved_conductances_us(g);
  auto e = adc.achieved_edges(), n = adc.nominal_edges();
  for (std::size_t i = 0; i < e.size(); ++i) CHECK(e[i] == Approx(n[i]));
  // sample sigma of the edge error matches the conductance sigma mapped through the transfer
  double s2 = 0;
  int cnt = 0;
  for (int s = 0; s < 200; ++s) {
    adc.apply_conductance_variation(2.73, s);
    auto a = adc.achieved_edges();
    for (std::size_t i = 0; i < a.size(); ++i, ++cnt) s2 += (a[i] - n[i]) * (a[i] - n[i]);
  }
  CHECK(std::sqrt(s2 / cnt) == Approx(2.73 / 300.0 * 4.0).epsilon(0.05));
  CHECK_THROWS_AS(QCellDesign::uniform(1, 0, 1).validate(), std::invalid_argument);
}

TEST_CASE("SR with zero variation equals the plain Q-cell", "[sr]") {
  QCellDesign d = QCellDesign::uniform(5, 0.0, 1.0);
  QCellAdc one(d);
  QCellSrAdc sr({QCellAdc(d), QCellAdc(d)});
  auto x = ramp(-0.1, 1.1, 30000);
  std::vector<float> a(x.size()), b(x.size());
  std::vector<int32_t> ca(x.size()), cb(x.size());
  ConversionStats st;
  one.quantize(x.data(), a.data(), ca.data(), x.size(), nullptr);
  sr.quantize(x.data(), b.data(), cb.data(), x.size(), &st);
  CHECK(a == b);
  CHECK(ca == cb);
  CHECK(st.disagreements == 0);
}

TEST_CASE("SR: disagreement outputs the nominal threshold at the top of the lower code; majority", "[sr]") {
  QCellDesign d = QCellDesign::uniform(2, 0.0, 1.0);
  QCellAdc a(d), b(d), c(d);
  // copy a: boundary 1|2 at 0.46; copy b: at 0.54 (both without gaps/overlaps)
  a.set_achieved_edges({0.0, 0.25, 0.25, 0.46, 0.46, 0.75, 0.75, 1.0});
  b.set_achieved_edges({0.0, 0.25, 0.25, 0.54, 0.54, 0.75, 0.75, 1.0});
  QCellSrAdc sr({a, b});
  std::vector<float> x = {0.40f, 0.50f, 0.60f};
  std::vector<float> out(3);
  std::vector<int32_t> code(3);
  ConversionStats st;
  sr.quantize(x.data(), out.data(), code.data(), 3, &st);
  CHECK(out[0] == Approx(0.375));  // agree on code 1
  CHECK(out[1] == Approx(0.5));    // codes 2 (a) and 1 (b): nominal threshold between 1 and 2
  CHECK(out[2] == Approx(0.625));  // agree on code 2
  CHECK(st.disagreements == 1);
  // three copies: majority code's level
  QCellSrAdc maj({a, b, c});
  ConversionStats sm;
  maj.quantize(x.data(), out.data(), code.data(), 3, &sm);
  CHECK(code[1] == 2);  // a and the nominal copy c say 2 (edge 0.46 / 0.5), b says 1
  CHECK(out[1] == Approx(0.625));
  CHECK(sm.disagreements == 1);
  CHECK_THROWS_AS(QCellSrAdc({a}), std::invalid_argument);
}

TEST_CASE("SR lowers the MSE of a varied Q-cell ADC on a ramp", "[sr]") {
  QCellDesign d = QCellDesign::uniform(4, 0.0, 1.0);
  auto x = ramp(0.0, 1.0, 50000);
  std::vector<float> out(x.size());
  double m1 = 0, m2 = 0;
  for (int s = 0; s < 20; ++s) {
    QCellAdc a(d), b(d);
    a.apply_range_fraction_variation(0.02, 2 * s);
    b.apply_range_fraction_variation(0.02, 2 * s + 1);
    QCellSrAdc sr({a, b});
    a.quantize(x.data(), out.data(), nullptr, x.size(), nullptr);
    for (std::size_t i = 0; i < x.size(); ++i) m1 += (out[i] - x[i]) * (out[i] - x[i]);
    sr.quantize(x.data(), out.data(), nullptr, x.size(), nullptr);
    for (std::size_t i = 0; i < x.size(); ++i) m2 += (out[i] - x[i]) * (out[i] - x[i]);
  }
  INFO("plain " << m1 << " SR " << m2);
  CHECK(m2 < m1);
}

TEST_CASE("uniform SAR and flash baselines", "[uniform]") {
  const int b = 4, L = 16;
  auto x = ramp(-1.2, 1.2, 40000);
  std::vector<float> out(x.size());
  std::vector<int32_t> code(x.size());
  Range r = full_scale_range(1.0);
  UniformAdc sar(AdcKind::Sar, b, r.lo, r.hi, 0.0, 1);
  ConversionStats st;
  sar.quantize(x.data(), out.data(), code.data(), x.size(), &st);
  const double step = 2.0 / (L - 1);
  std::size_t oor = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double c = std::min<double>(L - 1, std::max(0.0, std::floor((x[i] + 1.0) / step + 0.5)));
    REQUIRE(code[i] == static_cast<int>(c));
    REQUIRE(out[i] == Approx(-1.0 + c * step));
    oor += (x[i] < -1.0 - step / 2 || x[i] >= 1.0 + step / 2);
  }
  CHECK(st.out_of_range == oor);
  // SAR: one comparator -> every threshold shifted by the same offset
  UniformAdc sar2(AdcKind::Sar, b, r.lo, r.hi, 0.05, 9);
  const double off = sar2.thresholds()[0] - sar.thresholds()[0];
  CHECK(off != 0.0);
  for (int k = 0; k + 1 < L; ++k) CHECK(sar2.thresholds()[k] - sar.thresholds()[k] == Approx(off));
  // flash: independent offsets, ones-counting decoder (monotone codes even with bubbles)
  UniformAdc fl(AdcKind::Flash, b, r.lo, r.hi, 0.08, 9);
  fl.quantize(x.data(), out.data(), code.data(), x.size(), nullptr);
  for (std::size_t i = 0; i < x.size(); ++i) {
    int c = 0;
    for (double t : fl.thresholds()) c += x[i] >= t;
    REQUIRE(code[i] == c);
  }
  CHECK(std::is_sorted(code.begin(), code.end()));
  // calibrated range
  std::vector<float> data = {-3.f, 0.5f, 2.f};
  Range c = calibrated_range(data.data(), data.size());
  CHECK(c.lo == -3.0);
  CHECK(c.hi == 2.0);
  data[1] = NAN;
  CHECK_THROWS_AS(calibrated_range(data.data(), data.size()), std::invalid_argument);
  CHECK_THROWS_AS(UniformAdc(AdcKind::QCell, 4, 0, 1, 0, 1), std::invalid_argument);
}

TEST_CASE("uniform mid-tread: two's complement levels, 0 is a level", "[uniform]") {
  // b = 4, range [-3, 10]: A = 10, LSB = 10/8 = 1.25, levels k*1.25 for k = -8..7.
  UniformAdc m(AdcKind::Sar, 4, -3.0, 10.0, 0.0, 1, UniformShape::MidTread);
  CHECK(m.shape() == UniformShape::MidTread);
  CHECK(m.lsb() == Approx(1.25));
  CHECK(m.level(0) == Approx(-10.0));
  CHECK(m.level(8) == 0.0);
  CHECK(m.level(15) == Approx(8.75));
  REQUIRE(m.thresholds().size() == 15u);
  for (int k = 0; k < 15; ++k) CHECK(m.thresholds()[k] == Approx((k - 8 + 0.5) * 1.25));
  auto x = ramp(-12.0, 12.0, 24001);
  std::vector<float> out(x.size());
  std::vector<int32_t> code(x.size());
  ConversionStats st;
  m.quantize(x.data(), out.data(), code.data(), x.size(), &st);
  for (std::size_t i = 0; i < x.size(); ++i) {
    // Closed form: round to the nearest multiple of the LSB (ties up), clip to k in -8..7.
    const double k = std::min(7.0, std::max(-8.0, std::floor(x[i] / 1.25 + 0.5)));
    REQUIRE(code[i] == static_cast<int>(k) + 8);
    REQUIRE(out[i] == Approx(k * 1.25));
  }
  // A zero input converts to exactly 0 (the min..max shape has no 0 level here).
  float z = 0.f, zo = 1.f;
  m.quantize(&z, &zo, nullptr, 1, nullptr);
  CHECK(zo == 0.f);
  UniformAdc mm(AdcKind::Sar, 4, -3.0, 10.0, 0.0, 1);
  mm.quantize(&z, &zo, nullptr, 1, nullptr);
  CHECK(zo != 0.f);
  // SAR offset still shifts every threshold equally in the mid-tread shape.
  UniformAdc m2(AdcKind::Sar, 4, -3.0, 10.0, 0.1, 5, UniformShape::MidTread);
  const double off = m2.thresholds()[0] - m.thresholds()[0];
  CHECK(off != 0.0);
  for (int k = 0; k < 15; ++k) CHECK(m2.thresholds()[k] - m.thresholds()[k] == Approx(off));
}

TEST_CASE("common interface: kinds are interchangeable", "[adc]") {
  std::vector<std::unique_ptr<Adc>> adcs;
  adcs.push_back(std::make_unique<IdealAdc>());
  adcs.push_back(std::make_unique<UniformAdc>(AdcKind::Sar, 5, 0.0, 1.0, 0.0, 1));
  adcs.push_back(std::make_unique<UniformAdc>(AdcKind::Flash, 5, 0.0, 1.0, 0.0, 1));
  adcs.push_back(std::make_unique<QCellAdc>(QCellDesign::uniform(5, 0.0, 1.0)));
  QCellDesign d = QCellDesign::uniform(5, 0.0, 1.0);
  adcs.push_back(std::make_unique<QCellSrAdc>(std::vector<QCellAdc>{QCellAdc(d), QCellAdc(d)}));
  auto x = ramp(0.0, 1.0, 10000);
  std::vector<float> out(x.size());
  for (const auto& a : adcs) {
    ConversionStats st;
    a->quantize(x.data(), out.data(), nullptr, x.size(), &st);
    double mse = 0;
    for (std::size_t i = 0; i < x.size(); ++i) mse += (out[i] - x[i]) * (out[i] - x[i]);
    mse /= x.size();
    INFO(kind_name(a->kind()) << " mse " << mse);
    if (a->kind() == AdcKind::Ideal) {
      CHECK(mse == 0.0);
    } else if (a->kind() == AdcKind::Sar || a->kind() == AdcKind::Flash) {
      const double s = 1.0 / 31;  // levels include both ends
      CHECK(mse == Approx(s * s / 12).epsilon(0.05));
    } else {
      const double s = 1.0 / 32;
      CHECK(mse == Approx(s * s / 12).epsilon(0.05));
    }
    CHECK(st.conversions == x.size());
  }
}

TEST_CASE("INL/DNL Monte Carlo follows the paper's trend (fig4_4c_4d)", "[inl]") {
  for (int b = 2; b <= 6; ++b) {
    auto z = inl_dnl_monte_carlo(b, 0.0, 5, 1);
    CHECK(z.max_inl_mean == Approx(0.0).margin(1e-4));  // ideal edges (see docs: paper's 0 % floor)
    CHECK(z.max_dnl_mean == Approx(0.0).margin(1e-4));
  }
  double prev = 0;
  for (int b = 2; b <= 6; ++b) {
    auto r = inl_dnl_monte_carlo(b, 0.025, 200, 7);
    INFO("bits " << b << " max|INL| " << r.max_inl_mean << " max|DNL| " << r.max_dnl_mean);
    CHECK(r.max_inl_mean > prev);  // grows with bits at fixed variation
    prev = r.max_inl_mean;
  }
  for (int b : {4, 6}) {  // grows with variation at fixed bits
    double p = -1;
    for (double f : {0.0, 0.005, 0.01, 0.015, 0.02, 0.025}) {
      auto r = inl_dnl_monte_carlo(b, f, 200, 3);
      CHECK(r.max_inl_mean > p);
      p = r.max_inl_mean;
    }
  }
  auto six = inl_dnl_monte_carlo(6, 0.025, 200, 7);
  CHECK(six.max_inl_mean > 1.0);  // paper: 1.65 LSB (mean of 10 runs)
  CHECK(six.max_inl_mean < 5.0);
}

// Hidden: prints the table of docs/adc.md (run: test_adc_core "[.table]").
TEST_CASE("print the INL/DNL table for docs/adc.md", "[.table]") {
  std::printf("| bits | variation %% | max|INL| (LSB) | max|DNL| (LSB) |\n|---|---|---|---|\n");
  for (int b = 2; b <= 6; ++b)
    for (double f : {0.0, 0.5, 1.0, 1.5, 2.0, 2.5}) {
      auto r = inl_dnl_monte_carlo(b, f / 100.0, 200, 7);
      std::printf("| %d | %.1f | %.3f | %.3f |\n", b, f, r.max_inl_mean, r.max_dnl_mean);
    }
  SUCCEED();
}
