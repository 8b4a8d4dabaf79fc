// A private temporary folder for one test process, removed with everything in it when the
// process ends (tests write their inputs here, not into the build tree).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace cimvp_test {

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string templ = std::string(base && *base ? base : "/tmp") + "/cimvp-test-XXXXXX";
    if (!mkdtemp(templ.data())) throw std::runtime_error("cannot create a temporary folder from " + templ);
    path_ = templ;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The process's temporary folder (created on first use).
inline TempDir& temp_dir() {
  static TempDir d;
  return d;
}

}  // namespace cimvp_test
