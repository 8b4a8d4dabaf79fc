// The VGG8 study's scenario and the flags tools/vgg8_study.py passes, as a user runs them
// (the binary in a child process): the SAR file and its Q-cell variant validate; bad values of
// the keys this study introduced (synthetic dataset, generated model, tile count, required
// tech sections) are usage errors (exit 2) naming the key. `cimvp memory-map` loads and
// validates the scenario and elaborates the SoC without running it.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <unistd.h>

// libsystemc (linked through the platform) wants an sc_main; this test builds no SoC.
int sc_main(int, char**) { return 0; }

namespace {
const std::string kScenario = std::string(CIMVP_SOURCE_DIR) + "/scenarios/vgg8-cifar10-energy.yaml";

// Per process: ctest runs this file's test cases in parallel in one folder.
const std::string kOut = "vgg8_cli_out_" + std::to_string(getpid()) + ".txt";

int run(const std::string& args) {
  int rc = std::system((std::string(CIMVP_BIN) + " " + args + " > " + kOut + " 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}
std::string output() {
  std::ifstream f(kOut);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}
}  // namespace

TEST_CASE("the VGG8 scenario validates, SAR and Q-cell", "[netrun][cli][vgg8]") {
  REQUIRE(run("memory-map " + kScenario) == 0);
  CHECK(output().find("pmu") != std::string::npos);
  REQUIRE(run("memory-map " + kScenario + " --set chip.adc.mode=qcell --set tech=tech/rram22-qcell.yaml") == 0);
  // The embedded copy (cimvp runs from any folder) validates the same way.
  REQUIRE(run("memory-map " + kScenario + " --set dataset.images=2 --set calibration.images=2") == 0);
}

TEST_CASE("bad VGG8 study flags are usage errors naming the key", "[netrun][cli][vgg8]") {
  struct Case {
    const char* set;
    const char* key;
  };
  const Case cases[] = {
      {"chip.adc.mode=qcel", "chip.adc.mode"},
      {"chip.adc.bits=9", "chip.adc.bits"},
      {"dataset.shape=[3,32]", "dataset.shape"},
      {"dataset.shape=[3,0,32]", "dataset.shape"},
      {"dataset.std=[0.2,0.2]", "dataset.std"},
      {"dataset.mean=1.5", "dataset.mean"},
      {"dataset.pixels=noise", "dataset.pixels"},
      {"dataset.correlation_px=-1", "dataset.correlation_px"},
      {"dataset.dir=/tmp", "dataset.dir"},  // only Fashion-MNIST reads files
      {"network.model=generated:vgg9", "network.model"},
      {"memory_map.4.count=65537", "memory_map.4.count"},
      {"tech=tech/no-such-table.yaml", "tech"},
  };
  for (const auto& c : cases) {
    INFO("--set " << c.set);
    REQUIRE(run("memory-map " + kScenario + " --set " + c.set) == 2);
    CHECK(output().find(c.key) != std::string::npos);
  }
}

TEST_CASE("a tech table without a block's section is an error naming the file and the section", "[netrun][cli][vgg8]") {
  // rram22-qcell.yaml without its dma: section (as it was before): no C++ default fills in.
  std::ifstream in(std::string(CIMVP_SOURCE_DIR) + "/scenarios/tech/rram22-qcell.yaml");
  std::stringstream all;
  all << in.rdbuf();
  std::string text = all.str();
  const auto a = text.find("\ndma:");
  const auto b = text.find("\ndpu:");
  REQUIRE(a != std::string::npos);
  REQUIRE(b != std::string::npos);
  text.erase(a, b - a);
  std::filesystem::create_directories("vgg8_cli_tech");
  std::ofstream("vgg8_cli_tech/no-dma.yaml") << text;
  const std::string path = std::filesystem::absolute("vgg8_cli_tech/no-dma.yaml").string();
  REQUIRE(run("memory-map " + kScenario + " --set tech=" + path) == 2);
  CHECK(output().find("no-dma.yaml") != std::string::npos);
  CHECK(output().find("'dma:'") != std::string::npos);
}
