// Reading policy files into Sources: Load, ReadNetworkSources and ReadFiles.
// The engine (policy.cc, evaluate.cc, internal/) does no file I/O: it works
// on Sources in memory.
#include <algorithm>
#include <filesystem>

#include "base/file.h"
#include "base/status.h"
#include "base/strings.h"
#include "policy/policy.h"

namespace casenode::policy {

absl::StatusOr<std::vector<Source>> Policy::ReadNetworkSources(const std::string& network_dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> paths;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(network_dir, ec)) {
    if (e.is_regular_file() && e.path().extension() == ".toml") paths.push_back(e.path().string());
  }
  if (ec) return absl::NotFoundError(StrCat("policy: cannot read directory ", network_dir, ": ", ec.message()));
  if (paths.empty()) return absl::NotFoundError(StrCat("policy: no .toml files in ", network_dir));
  std::sort(paths.begin(), paths.end());
  return ReadFiles(paths);
}

absl::StatusOr<std::vector<Source>> Policy::ReadFiles(const std::vector<std::string>& files) {
  std::vector<Source> out;
  for (const auto& p : files) {
    ASSIGN_OR_RETURN(std::string text, ReadFile(p));
    out.push_back({p, std::move(text)});
  }
  return out;
}

absl::StatusOr<std::shared_ptr<const Policy>> Policy::Load(const std::string& network_dir,
                                                           const std::vector<std::string>& local_files) {
  ASSIGN_OR_RETURN(std::vector<Source> network, ReadNetworkSources(network_dir));
  ASSIGN_OR_RETURN(std::vector<Source> local, ReadFiles(local_files));
  return FromSources(network, local);
}

}  // namespace casenode::policy
