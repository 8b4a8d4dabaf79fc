#include "models/pmu/pmu_core.hpp"

#include <cmath>
#include <stdexcept>

namespace cimvp::pmu {

uint32_t name_hash(const std::string& name) {
  uint32_t h = 2166136261u;
  for (unsigned char c : name) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

uint32_t name_word(const std::string& name, unsigned w) {
  if (w > 3) throw std::invalid_argument("pmu::name_word: word index " + std::to_string(w) + " out of 0..3");
  uint32_t v = 0;
  for (unsigned b = 0; b < 4; ++b) {
    std::size_t i = 4 * w + b;
    uint32_t c = i < name.size() ? static_cast<unsigned char>(name[i]) : 0u;
    v |= c << (8 * b);
  }
  return v;
}

uint64_t pj_to_fj(double pj) {
  if (!std::isfinite(pj) || pj < 0)
    throw std::invalid_argument("pmu: energy " + std::to_string(pj) + " pJ is negative or not finite");
  const double fj = std::floor(pj * 1000.0 + 0.5);
  if (fj >= 18446744073709551616.0) throw std::range_error("pmu: energy counter overflow (> 2^64 fJ)");
  return static_cast<uint64_t>(fj);
}

void Counters::snapshot(const std::vector<ComponentEnergy>& now, uint64_t t_ps) {
  if (t_ps < t_reset_)
    throw std::invalid_argument("pmu: snapshot at " + std::to_string(t_ps) + " ps precedes the reset at " +
                                std::to_string(t_reset_) + " ps");
  latched_.assign(now.size(), Latched{});
  total_fj_ = 0;
  for (std::size_t i = 0; i < now.size(); ++i) {
    ComponentEnergy b = i < base_.size() ? base_[i] : ComponentEnergy{};
    // Differences in pJ first: the baseline may be large compared with one layer's energy.
    double dyn = now[i].dynamic_pj - b.dynamic_pj;
    double stat = now[i].static_pj - b.static_pj;
    // Rounding of the running totals can make a difference a hair below zero.
    if (dyn < 0 && dyn > -1e-9 * (1 + now[i].dynamic_pj)) dyn = 0;
    if (stat < 0 && stat > -1e-9 * (1 + now[i].static_pj)) stat = 0;
    latched_[i].static_fj = pj_to_fj(stat);
    latched_[i].energy_fj = pj_to_fj(dyn + stat);
    latched_[i].busy_ps = now[i].busy_ps > b.busy_ps ? now[i].busy_ps - b.busy_ps : 0;
    total_fj_ += latched_[i].energy_fj;
  }
  t_latched_ = t_ps;
  ++snapshots_;
}

void Counters::reset(const std::vector<ComponentEnergy>& now, uint64_t t_ps) {
  base_ = now;
  t_reset_ = t_ps;
  t_latched_ = t_ps;
  latched_.assign(now.size(), Latched{});
  total_fj_ = 0;
}

uint64_t Counters::energy_fj(std::size_t i) const {
  return i < latched_.size() ? latched_[i].energy_fj : 0;
}
uint64_t Counters::static_fj(std::size_t i) const {
  return i < latched_.size() ? latched_[i].static_fj : 0;
}

uint64_t Counters::busy_ps(std::size_t i) const {
  return i < latched_.size() ? latched_[i].busy_ps : 0;
}

uint64_t Counters::cycles(double clock_mhz) const {
  // ps x MHz / 1e6; long double keeps all 64 bits of the product.
  return static_cast<uint64_t>(static_cast<long double>(elapsed_ps()) * clock_mhz / 1e6L);
}

}  // namespace cimvp::pmu
