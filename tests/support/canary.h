// Canary scanning: proves that distinctive values (BSN-like digits, names,
// case text) never reach disk or logs in the clear. Reused by every suite
// that writes personal data, up to a whole network's directories.
#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace casenode::testing {

// Every "path: canary" where a canary's bytes occur in a regular file under
// `root` (recursively; SST, WAL, MANIFEST, OPTIONS, LOG, anything). Also
// checks file names.
inline std::vector<std::string> FindCanaries(const std::string& root, const std::vector<std::string>& canaries) {
  std::vector<std::string> hits;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    const std::string name = entry.path().string();
    for (const auto& c : canaries) {
      if (name.find(c) != std::string::npos) hits.push_back(name + " (file name): " + c);
    }
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const auto& c : canaries) {
      if (bytes.find(c) != std::string::npos) hits.push_back(name + ": " + c);
    }
  }
  return hits;
}

}  // namespace casenode::testing
