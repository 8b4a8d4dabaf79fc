// What every SystemC block of the platform gets at construction: the validated scenario,
// the tracer (signals.vcd + trace.json), the power monitor and its own random seed.
#pragma once

#include <cstdint>
#include <string>

#include "platform/config/scenario.hpp"

namespace cimvp {

class Tracer;
class PowerSc;

struct Context {
  const config::Scenario& scenario;
  Tracer& tracer;
  PowerSc& power;

  // One independent, reproducible seed per block instance: splitmix64 of the scenario
  // seed mixed with a hash of the instance name (stable across runs and thread counts).
  uint64_t seed_for(const std::string& instance) const;
};

uint64_t splitmix64(uint64_t x);

}  // namespace cimvp
