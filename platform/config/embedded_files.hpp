// Files under scenarios/ compiled into the binary (see cmake/embed_files.cmake), keyed by
// their path relative to the repository root, e.g. "scenarios/default.yaml".
#pragma once

#include <map>
#include <string>

namespace cimvp::config {

const std::map<std::string, std::string>& embedded_files();

// Prefix of a resolved path that names an embedded file.
inline constexpr const char* kEmbeddedPrefix = "embedded:";

// Reads a resolved path: "embedded:<rel>" from the table, anything else from disk.
// Throws ConfigError naming the path when it cannot be read.
std::string read_resolved_file(const std::string& resolved);

// Resolves `ref` relative to the file `base` (itself resolved; embedded or on disk).
std::string resolve_relative(const std::string& base, const std::string& ref);

}  // namespace cimvp::config
