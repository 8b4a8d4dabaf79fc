// Per-layer ADC calibration files of a run (docs/outputs.md "ADC calibration files"): what the
// firmware captured and the thresholds it designed and achieved, for tools/plot_report.py.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "platform/netrun/netrun.hpp"

namespace cimvp {
class Soc;
}

namespace cimvp::netrun {

// Base name of a calibration group's files: "layer<l>" (group: layer) or "layer<l>_tile<t>"
// (group: array).
std::string adc_group_name(const cimnet_calib_result_t& g, bool per_array);

// Mid-tread uniform quantiser of b bits and full scale a (the SAR/flash baseline,
// models/adc UniformShape::MidTread): levels k a / 2^(b-1), k = -2^(b-1) .. 2^(b-1) - 1,
// thresholds halfway between them.
void midtread(double a, unsigned bits, std::vector<double>& thresholds, std::vector<double>& levels);
// Full scale the firmware's SAR calibration picks (firmware/lib/fw_calib.c, strategy
// FW_CALIB_S_SAR_RANGE): among the |x| values at the 0, 0.01, 0.05, 0.1, 0.5, 1 and 3 %
// two-sided percentiles, the one whose mid-tread quantiser has the least MSE on x. x sorted
// ascending, non-empty.
double midtread_full_scale(const std::vector<float>& sorted_x, unsigned bits);

// For every group of `cr`, from the tiles' capture registers and SRAM after the run:
//   adc_capture_<group>.csv     header `sample_digits`, the samples the firmware captured
//                               (all tiles of the group), decimated evenly to <= max_samples;
//   adc_thresholds_<group>.csv  header `kind,index,value`: `uniform` / `uniform_level` (the
//                               mid-tread SAR baseline), `lloyd_max` / `lloyd_max_level` (the
//                               nominal design in ADC_THRESH / ADC_LEVEL, Q-cell modes),
//                               `achieved_edge` (ADC_EDGE read back: lo, hi per Q-cell window,
//                               first tile of the group).
// Returns the group names written. Throws std::runtime_error if a file cannot be written.
std::vector<std::string> write_adc_calibration_files(const std::string& dir, Soc& soc, const CalibrationResult& cr,
                                                     std::size_t max_samples = 16384);

}  // namespace cimvp::netrun
