// The Debian package of this build tree, made with cpack for the artefact tests.
#pragma once

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/process.h"

namespace casenode::testing {

// Runs a tool found on PATH (Run takes a path).
inline RunResult RunTool(std::vector<std::string> argv, const std::string& cwd = "",
                         const std::vector<std::string>& extra_env = {}) {
  argv.insert(argv.begin(), "/usr/bin/env");
  return Run(argv, cwd, extra_env);
}

inline std::string TrimNewlines(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Builds the package into `dir`; returns its path.
inline std::string BuildPackage(const std::string& dir) {
  const std::string arch = TrimNewlines(RunTool({"dpkg", "--print-architecture"}).out);
  const RunResult pack = RunTool({"cpack", "-G", "DEB", "-B", dir}, CASENODE_BINARY_DIR);
  INFO(pack.out << pack.err);
  REQUIRE(pack.exit_code == 0);
  const std::string deb = dir + "/casenode_" CASENODE_VERSION "_" + arch + ".deb";
  REQUIRE(std::filesystem::is_regular_file(deb));
  return deb;
}

}  // namespace casenode::testing
