// libFuzzer target: the network manifest (network/manifest.h), which every node
// reads at start and reload. Every input must give a manifest or a clean
// error; an accepted one encodes, and its encoding parses back to the same
// encoding; verifying it under a key that never signed it fails.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "network/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace casenode::network;
  const std::string json(reinterpret_cast<const char*>(data), size);
  auto manifest = ParseManifest(json);
  if (!manifest.ok()) {
    if (manifest.status().message().empty()) std::abort();
    return 0;
  }
  auto encoded = EncodeManifest(*manifest);
  if (!encoded.ok()) std::abort();  // parsing validated it
  auto again = ParseManifest(*encoded);
  if (!again.ok()) std::abort();
  auto reencoded = EncodeManifest(*again);
  if (!reencoded.ok() || *reencoded != *encoded) std::abort();
  const casenode::keys::PublicKey never_signed{};
  if (VerifyManifest(json, "c2lnbmF0dXJl", never_signed, casenode::SystemTime{}, "school").ok()) std::abort();
  return 0;
}
