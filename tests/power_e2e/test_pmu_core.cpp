// PMU counter core: name hashing (published FNV-1a test vectors), fJ rounding, snapshot and
// reset arithmetic, cycle conversion.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "models/pmu/pmu_core.hpp"

using namespace cimvp::pmu;

TEST_CASE("name_hash is 32-bit FNV-1a (reference vectors from the FNV specification)") {
  // draft-eastlake-fnv test vectors: "" -> 0x811c9dc5, "a" -> 0xe40c292c, "foobar" -> 0xbf9cf968.
  CHECK(name_hash("") == 0x811c9dc5u);
  CHECK(name_hash("a") == 0xe40c292cu);
  CHECK(name_hash("foobar") == 0xbf9cf968u);
}

TEST_CASE("name_word packs the first 16 bytes little-endian, NUL-padded") {
  CHECK(name_word("tile0", 0) == (uint32_t('t') | uint32_t('i') << 8 | uint32_t('l') << 16 | uint32_t('e') << 24));
  CHECK(name_word("tile0", 1) == uint32_t('0'));
  CHECK(name_word("tile0", 3) == 0u);
  CHECK(name_word("0123456789abcdefXYZ", 3) == (uint32_t('c') | uint32_t('d') << 8 | uint32_t('e') << 16 | uint32_t('f') << 24));
  CHECK_THROWS_AS(name_word("x", 4), std::invalid_argument);
}

TEST_CASE("pj_to_fj rounds to the nearest fJ and rejects what a counter cannot hold") {
  CHECK(pj_to_fj(0) == 0u);
  CHECK(pj_to_fj(1.2344) == 1234u);
  CHECK(pj_to_fj(1.2346) == 1235u);
  CHECK(pj_to_fj(1e9) == 1000000000000ull);  // 1 mJ
  CHECK_THROWS_AS(pj_to_fj(-1), std::invalid_argument);
  CHECK_THROWS_AS(pj_to_fj(std::nan("")), std::invalid_argument);
  CHECK_THROWS_AS(pj_to_fj(2e16), std::range_error);  // 2e19 fJ > 2^64
}

TEST_CASE("snapshots count from the last reset and totals are the sum of the components") {
  Counters c;
  std::vector<ComponentEnergy> e = {{10.0, 1.0}, {0.5, 0.25}};
  c.snapshot(e, 2000);
  CHECK(c.size() == 2);
  CHECK(c.energy_fj(0) == 11000u);
  CHECK(c.static_fj(0) == 1000u);
  CHECK(c.energy_fj(1) == 750u);
  CHECK(c.total_fj() == 11750u);
  CHECK(c.elapsed_ps() == 2000u);
  CHECK(c.snapshots() == 1u);

  c.reset(e, 2000);
  CHECK(c.total_fj() == 0u);
  CHECK(c.elapsed_ps() == 0u);
  std::vector<ComponentEnergy> later = {{12.5, 1.5}, {0.5, 0.5}, {3.0, 0.0}};  // a third component appeared
  c.snapshot(later, 7000);
  CHECK(c.energy_fj(0) == 3000u);  // 2.5 dynamic + 0.5 static
  CHECK(c.static_fj(0) == 500u);
  CHECK(c.energy_fj(1) == 250u);
  CHECK(c.energy_fj(2) == 3000u);  // counted from zero
  CHECK(c.total_fj() == 6250u);
  CHECK(c.elapsed_ps() == 5000u);
  CHECK(c.reset_ps() == 2000u);
  CHECK(c.energy_fj(7) == 0u);  // out of range reads as zero, like an unpopulated counter
  CHECK_THROWS_AS(c.snapshot(later, 1000), std::invalid_argument);  // before the reset
}

TEST_CASE("cycles: elapsed time at the CPU clock, floored") {
  Counters c;
  c.snapshot({}, 1'000'000);             // 1 us
  CHECK(c.cycles(500) == 500u);          // 500 MHz
  CHECK(c.cycles(333) == 333u);
  c.snapshot({}, 2'999);                 // 2.999 ns at 1 GHz -> 2 full cycles
  CHECK(c.cycles(1000) == 2u);
}

TEST_CASE("busy time is latched per component and restarts at RESET") {
  cimvp::pmu::Counters c;
  std::vector<cimvp::pmu::ComponentEnergy> now(2);
  now[0].busy_ps = 1500;
  c.snapshot(now, 2000);
  CHECK(c.busy_ps(0) == 1500);
  CHECK(c.busy_ps(1) == 0);
  c.reset(now, 2000);
  CHECK(c.busy_ps(0) == 0);
  now[0].busy_ps = 1800;
  now[1].busy_ps = 40;
  c.snapshot(now, 3000);
  CHECK(c.busy_ps(0) == 300);
  CHECK(c.busy_ps(1) == 40);
  CHECK(c.busy_ps(5) == 0);  // no such component
}
