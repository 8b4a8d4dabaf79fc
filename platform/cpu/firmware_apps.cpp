// The firmware applications the platform can boot (scenario key firmware.app).
#include <string>
#include <vector>

#include "platform/config/scenario.hpp"
#include "platform/cpu/host_cpu.hpp"

extern "C" {
#include "apps/apps.h"
}

namespace cimvp {

const std::vector<FirmwareApp>& firmware_apps() {
  static const std::vector<FirmwareApp> apps = {
      {"selftest", fw_app_selftest, "every block answers: IDs, reset values, SRAM patterns, one interrupt"},
      {"bus_fault", fw_app_bus_fault, "loads from an unmapped address (arg0=1: with a trap handler)"},
      {"infer", fw_app_infer, "runs the compiled network of the job block in host memory (network flow)"},
  };
  return apps;
}

HostCpu::AppEntry find_firmware_app(const std::string& name) {
  for (const auto& a : firmware_apps())
    if (name == a.name) return a.entry;
  return nullptr;
}

namespace config {
const std::vector<std::string>& firmware_app_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& a : firmware_apps()) n.push_back(a.name);
    return n;
  }();
  return names;
}
}  // namespace config

}  // namespace cimvp
