#include "models/progctl/device.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>

namespace cimvp::progctl {
namespace {

[[noreturn]] void bad(const std::string& key, double value, const std::string& what) {
  std::ostringstream os;
  os << key << " = " << value << ": " << what;
  throw std::invalid_argument(os.str());
}

void check_response(const std::string& pre, const PulseResponse& r) {
  if (!(std::isfinite(r.alpha_us) && r.alpha_us > 0))
    bad(pre + ".alpha_us", r.alpha_us, "must be a finite step > 0 uS");
  if (!(std::isfinite(r.gamma) && r.gamma > 0))
    bad(pre + ".gamma", r.gamma, "must be a finite exponent > 0");
  if (!(std::isfinite(r.v_th) && r.v_th >= 0))
    bad(pre + ".v_th", r.v_th, "must be a finite threshold voltage >= 0 V");
  if (!(std::isfinite(r.v_ref) && r.v_ref > r.v_th))
    bad(pre + ".v_ref", r.v_ref, "must be finite and above " + pre + ".v_th");
  if (!(std::isfinite(r.t_ref_s) && r.t_ref_s > 0))
    bad(pre + ".t_ref_s", r.t_ref_s, "must be a finite pulse width > 0 s");
  if (!(std::isfinite(r.width_exp) && r.width_exp >= 0))
    bad(pre + ".width_exp", r.width_exp, "must be a finite exponent >= 0");
}

}  // namespace

void DeviceParams::validate() const {
  if (!(std::isfinite(g_min_us) && g_min_us >= 0))
    bad("device.g_min_us", g_min_us, "must be a finite conductance >= 0 uS");
  if (!(std::isfinite(g_max_us) && g_max_us > g_min_us))
    bad("device.g_max_us", g_max_us, "must be finite and greater than device.g_min_us");
  check_response("device.set", set);
  check_response("device.reset", reset);
  if (!(std::isfinite(sigma_mult) && sigma_mult >= 0))
    bad("device.sigma_mult", sigma_mult, "must be a finite relative sigma >= 0");
  if (!(std::isfinite(sigma_add_us) && sigma_add_us >= 0))
    bad("device.sigma_add_us", sigma_add_us, "must be a finite sigma >= 0 uS");
  if (!(std::isfinite(read_sigma_rel) && read_sigma_rel >= 0 && read_sigma_rel < 1))
    bad("device.read_sigma_rel", read_sigma_rel, "must be a relative sigma in [0, 1)");
  if (!(std::isfinite(read_sigma_abs_us) && read_sigma_abs_us >= 0))
    bad("device.read_sigma_abs_us", read_sigma_abs_us, "must be a finite sigma >= 0 uS");
  if (endurance_pulses == 0)
    bad("device.endurance_pulses", 0, "must be >= 1 (pulses a cell survives)");
  if (wear_out != WearOut::Present && wear_out != WearOut::GMin && wear_out != WearOut::GMax)
    bad("device.wear_out", static_cast<double>(wear_out), "must be present, g_min or g_max");
}

Device::Device(const DeviceParams& p) : p_(p) {
  p_.validate();
  inv_window_ = 1.0 / (p_.g_max_us - p_.g_min_us);
}

}  // namespace cimvp::progctl
