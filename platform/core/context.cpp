#include "platform/core/context.hpp"

namespace cimvp {

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

uint64_t Context::seed_for(const std::string& instance) const {
  uint64_t h = 1469598103934665603ull;  // FNV-1a of the name: fixed, unlike std::hash
  for (unsigned char c : instance) h = (h ^ c) * 1099511628211ull;
  return splitmix64(scenario.seed ^ splitmix64(h));
}

}  // namespace cimvp
