// libFuzzer target: the node configuration (node/config), hand-edited by
// operators. Every input must give a configuration or a clean error naming
// the key; an accepted one must survive ToToml and parse back equal.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "node/config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto config = casenode::node::NodeConfig::Parse(text, "/srv/casenode", "fuzz.toml");
  if (!config.ok()) {
    if (config.status().message().empty()) std::abort();
    return 0;
  }
  auto again = casenode::node::NodeConfig::Parse(config->ToToml(), "/srv/casenode", "again.toml");
  if (!again.ok() || again->ToToml() != config->ToToml()) std::abort();
  return 0;
}
