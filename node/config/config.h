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
//   [staff]   issuer = "https://login.school.example/realms/staf"   # optional: staff sign-in
//             client_id = "casenode-school"
//             client_secret = "credential:oidc-client-secret"     # or sealed:PATH; never the secret
//             redirect_uri = "https://casenode.school.example/aanmelden/terug"
//             roles_claim = "groups"   # the ID token claim with the person's groups or roles
//             algorithms = ["RS256"]   # RS256, PS256, ES256
//             skew_seconds = 60        # 0 to 300
//             idle_minutes = 15        # a session ends after this long unused (1 to 120) ...
//             absolute_hours = 8       # ... and this long after sign-in (1 to 24)
//             ca_file = ""             # the issuer's CA, if not the system's
//   [staff.roles]  "zorgteam" = "zorgcoordinator"   # issuer value -> staff role
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace casenode::node {

// How the node's staff sign in (OpenID Connect, node/staff/).
struct StaffConfig {
  std::string issuer;         // https (http only on loopback, for a test provider)
  std::string client_id;
  std::string client_secret;  // a URI: "sealed:PATH" (sealed under the master key) or "credential:NAME"
  std::string redirect_uri;   // https, on the node's staff listener
  std::string roles_claim = "groups";
  std::map<std::string, std::string> roles;  // issuer value -> staff role
  std::vector<std::string> algorithms = {"RS256"};
  std::chrono::seconds skew{60};
  std::chrono::minutes idle{15};
  std::chrono::hours absolute{8};
  std::string ca_file;  // "" = the system's CAs
};

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
  std::optional<StaffConfig> staff;  // absent: no staff sign-in configured

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
