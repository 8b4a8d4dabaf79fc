// The scenario's calibration keys (platform/config): column groups and the SR decoder
// policy are validated at load, with the key path and the value to use in the message.
#include "tests/support/catch_main_no_sc.hpp"

#include <string>
#include <vector>

#include "platform/config/scenario.hpp"

using cimvp::config::ConfigError;
using cimvp::config::load_scenario;
using cimvp::config::LoadOptions;

namespace {
// The embedded default scenario (calibrated Q-cell ADCs, 128 columns, ADC share 8) with --set.
std::string error_of(const std::vector<std::string>& sets) {
  LoadOptions lo;
  lo.overrides = sets;
  try {
    load_scenario("", lo);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}
cimvp::config::Scenario load(const std::vector<std::string>& sets) {
  LoadOptions lo;
  lo.overrides = sets;
  return load_scenario("", lo);
}
}  // namespace

TEST_CASE("calibration.group: column_group with group_cols", "[calib][config]") {
  auto s = load({"calibration.group=column_group", "calibration.group_cols=32"});
  CHECK(s.calibration.group == "column_group");
  CHECK(s.calibration.group_cols == 32u);
  CHECK(s.chip.adc.share == 8);
  CHECK(load({"calibration.group=column_group", "calibration.group_cols=128"}).calibration.group_cols == 128u);
  CHECK(load({}).calibration.group_cols == 0u);
}

TEST_CASE("calibration.group_cols errors name the key and what to use", "[calib][config]") {
  auto e = error_of({"calibration.group=column_group"});
  CHECK_THAT(e, Catch::Contains("calibration.group_cols"));
  CHECK_THAT(e, Catch::Contains("multiple of chip.adc.share = 8"));
  e = error_of({"calibration.group=column_group", "calibration.group_cols=12"});
  CHECK_THAT(e, Catch::Contains("not a multiple of chip.adc.share 8"));
  CHECK_THAT(e, Catch::Contains("use 16"));
  CHECK_THAT(e, Catch::Contains("--set calibration.group_cols=12"));
  e = error_of({"calibration.group=column_group", "calibration.group_cols=256"});
  CHECK_THAT(e, Catch::Contains("exceeds the array's 128 columns"));
  e = error_of({"calibration.group=array", "calibration.group_cols=16"});
  CHECK_THAT(e, Catch::Contains("only used with calibration.group: column_group"));
  e = error_of({"calibration.group=columns"});
  CHECK_THAT(e, Catch::Contains("column_group"));  // the valid choices are listed
}

TEST_CASE("calibration.sr_policy", "[calib][config]") {
  CHECK(load({}).calibration.sr_policy == "boundary");
  CHECK(load({"calibration.sr_policy=zero_wins"}).calibration.sr_policy == "zero_wins");
  auto e = error_of({"calibration.sr_policy=majority"});
  CHECK_THAT(e, Catch::Contains("calibration.sr_policy"));
  CHECK_THAT(e, Catch::Contains("zero_wins"));
}

TEST_CASE("chip.adc.uniform_shape selects the SAR/flash transfer", "[calib][config]") {
  CHECK(load({}).chip.adc.uniform_shape == "mid_tread");
  CHECK(load({"chip.adc.uniform_shape=min_max"}).chip.adc.uniform_shape == "min_max");
  auto e = error_of({"chip.adc.uniform_shape=midtread"});
  CHECK_THAT(e, Catch::Contains("chip.adc.uniform_shape"));
  CHECK_THAT(e, Catch::Contains("mid_tread"));
}
