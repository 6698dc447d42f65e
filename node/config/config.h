// NodeConfig: what `casenode --config FILE` reads.
//
// TOML (toml++), chosen because operators edit it by hand, it has comments
// and sections, and Debian ships a strict parser. Unknown keys and tables are
// errors; every error names file, line and key. Relative paths are resolved
// against the directory of the config file, so a node directory can move.
//
//   [node]    org = "school"          # this node's organisation id (in the manifest)
//             data_dir = "data"
//   [network] manifest = "../network/manifest.json"   # .sig beside it
//             operator_key = "../network/operator.pub"
//             ca_cert = "../network/ca.pem"
//   [keys]    master_key = "file:master.key"          # or passphrase-file:, passphrase-env:
//             identity = "identity.sealed"
//             tls_cert = "cert.pem"
//   [peer]    listen = "127.0.0.1:7101"
//             timeout_ms = 2000        # deadline for each outgoing peer call
//             max_message_bytes = 1048576
//   [policy]  network = "../network/policy"           # its hash must match the manifest
//             local = ["local-policy.toml"]           # optional; deny rules only
//   [local]   socket = "local.sock"
//   [log]     level = "info"           # debug | info | warn | error
//   [metrics] listen = "127.0.0.1:9464" # optional; loopback only (no TLS)
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace casenode::node {

struct NodeConfig {
  std::string org;
  std::string data_dir;
  std::string manifest;
  std::string operator_key;
  std::string ca_cert;
  std::string master_key;  // URI
  std::string identity;
  std::string tls_cert;
  std::string oprf_share;  // a pseudonym key holder's sealed share (keys/oprf_share.h); "" if none
  std::string peer_listen;
  std::chrono::milliseconds peer_timeout{2000};
  int max_message_bytes = 1 << 20;
  std::string policy_network;
  std::vector<std::string> policy_local;
  std::string local_socket;
  std::string log_level = "info";
  std::string metrics_listen;  // "" = no metrics listener

  // Reads and validates a config file. InvalidArgument with "FILE:LINE: ..." on
  // any problem; NotFound if the file does not exist.
  [[nodiscard]] static absl::StatusOr<NodeConfig> Load(const std::string& path);
  // Parses TOML text; `base_dir` resolves relative paths, `source` names the text.
  [[nodiscard]] static absl::StatusOr<NodeConfig> Parse(std::string_view toml, const std::string& base_dir,
                                          const std::string& source);
  // The config as TOML with paths as given (used by `casectl network init`).
  std::string ToToml() const;
};

}  // namespace casenode::node
