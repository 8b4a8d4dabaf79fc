// `cimvp lloyd-max --bits B [--uniform] [--json] FILE` (DESIGN.md section 5): designs a
// Lloyd-Max quantiser with the firmware's C implementation and prints it as JSON.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace cimvp::adc {

// args: the words after "lloyd-max". Returns the exit code: 0 ok, 2 usage or input error.
int run_lloyd_max_cli(const std::vector<std::string>& args, std::istream& stdin_, std::ostream& out,
                      std::ostream& err);

// Sample loading used by the CLI (exposed for tests): text (one number per line, first CSV
// column, optional header line) or .npy (float32/float64 little-endian, 1-D or (n,1)).
// Throws std::invalid_argument with the line / element that is wrong.
std::vector<float> load_samples_text(std::istream& in, const std::string& name);
std::vector<float> load_samples_npy(std::istream& in, const std::string& name);

}  // namespace cimvp::adc
