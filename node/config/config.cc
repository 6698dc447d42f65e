#include "node/config/config.h"

#include <arpa/inet.h>

#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>

#include "base/file.h"
#include "base/status.h"
#include "base/strings.h"

namespace casenode::node {
namespace {

// Every key the config knows, by table. Anything else is an error.
const std::map<std::string, std::set<std::string>, std::less<>> kSchema = {
    {"node", {"org", "data_dir"}},
    {"network", {"manifest", "operator_key", "ca_cert"}},
    {"keys", {"master_key", "identity", "tls_cert", "oprf_share"}},
    {"peer", {"listen", "timeout_ms", "max_message_bytes"}},
    {"policy", {"network", "local"}},
    {"local", {"socket"}},
    {"log", {"level"}},
    {"metrics", {"listen"}},
    {"staff", {"issuer", "client_id", "client_secret", "redirect_uri", "roles_claim", "roles", "algorithms",
               "skew_seconds", "idle_minutes", "absolute_hours", "ca_file"}},
};

class Reader {
 public:
  Reader(const toml::table& root, std::string source, std::string base_dir)
      : root_(root), source_(std::move(source)), base_dir_(std::move(base_dir)) {}

  absl::Status Error(const toml::node* at, std::string_view msg) const {
    const auto line = at != nullptr ? at->source().begin.line : 0;
    return absl::InvalidArgumentError(StrCat(source_, ":", line, ": ", msg));
  }

  absl::Status CheckSchema() const {
    for (const auto& [table_name, table_node] : root_) {
      auto known = kSchema.find(table_name.str());
      if (known == kSchema.end() || !table_node.is_table()) {
        return Error(&table_node, StrCat("unknown table [", Printable(table_name.str()), "]"));
      }
      for (const auto& [key, value] : *table_node.as_table()) {
        if (!known->second.contains(std::string(key.str()))) {
          return Error(&value, StrCat("unknown key \"", Printable(key.str()), "\" in [", Printable(table_name.str()), "]"));
        }
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> String(std::string_view table, std::string_view key, bool required) const {
    const toml::node* n = root_.at_path(StrCat(table, ".", key)).node();
    if (n == nullptr) {
      if (required) return Error(nullptr, StrCat("missing required key ", table, ".", key));
      return std::string();
    }
    if (!n->is_string()) return Error(n, StrCat(table, ".", key, ": expected a string"));
    return std::string(n->as_string()->get());
  }

  absl::StatusOr<int64_t> Integer(std::string_view table, std::string_view key, int64_t fallback, int64_t min,
                                  int64_t max) const {
    const toml::node* n = root_.at_path(StrCat(table, ".", key)).node();
    if (n == nullptr) return fallback;
    if (!n->is_integer() || n->as_integer()->get() < min || n->as_integer()->get() > max) {
      return Error(n, StrCat(table, ".", key, ": expected an integer from ", min, " to ", max));
    }
    return n->as_integer()->get();
  }

  absl::StatusOr<std::string> Path(std::string_view table, std::string_view key) const {
    ASSIGN_OR_RETURN(std::string p, String(table, key, true));
    return Resolve(p);
  }

  std::string Resolve(const std::string& p) const {
    if (p.empty() || p.front() == '/') return p;
    return (std::filesystem::path(base_dir_) / p).lexically_normal().string();
  }

  const toml::node* At(std::string_view path) const { return root_.at_path(path).node(); }

 private:
  const toml::table& root_;
  std::string source_;
  std::string base_dir_;
};

absl::Status CheckListen(const Reader& r, const std::string& listen, std::string_view key = "peer.listen") {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return r.Error(r.At(key), StrCat(key, ": expected host:port, e.g. 127.0.0.1:7101"));
  }
  const std::string port = listen.substr(colon + 1);
  int value = 0;
  for (char c : port) {
    if (c < '0' || c > '9' || value > 65535) {
      value = -1;
      break;
    }
    value = value * 10 + (c - '0');
  }
  if (port.empty() || value < 1 || value > 65535) {
    return r.Error(r.At(key), StrCat(key, ": port \"", port, "\" is not a number from 1 to 65535"));
  }
  return absl::OkStatus();
}

// The metrics listener has no TLS: loopback only (scrape through a local agent or a tunnel).
absl::Status CheckLoopback(const Reader& r, const std::string& listen) {
  const std::string host = listen.substr(0, listen.rfind(':'));
  in_addr v4{};
  const bool loopback = host == "localhost" || host == "[::1]" ||
                        (::inet_pton(AF_INET, host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127);
  if (!loopback) {
    return r.Error(r.At("metrics.listen"),
                   StrCat("metrics.listen: \"", host, "\" is not a loopback address (127.0.0.1, [::1] or localhost): "
                          "the metrics listener has no TLS"));
  }
  return absl::OkStatus();
}

// A URI whose scheme takes a path gets the path resolved too.
std::string ResolveUri(const Reader& r, const std::string& uri) {
  for (std::string_view scheme : {"file:", "passphrase-file:"}) {
    std::string_view rest = uri;
    if (ConsumePrefix(&rest, scheme)) return StrCat(scheme, r.Resolve(std::string(rest)));
  }
  return uri;
}

// An absolute https URL: "https://" and a host (http only for a loopback
// host, for a test provider). Checked by shape here; the staff part checks
// what the issuer sends.
bool HttpsUrl(const std::string& url) {
  for (std::string_view scheme : {"https://", "http://127.0.0.1:", "http://localhost:", "http://[::1]:"}) {
    if (url.starts_with(scheme) && url.size() > scheme.size() && url.find_first_of(" \t\n\r#@") == std::string::npos) {
      return true;
    }
  }
  return false;
}

bool RoleName(std::string_view s) {
  return !s.empty() && s.size() <= 64 && s.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") == std::string::npos;
}

absl::StatusOr<StaffConfig> ParseStaff(const Reader& r) {
  StaffConfig s;
  ASSIGN_OR_RETURN(s.issuer, r.String("staff", "issuer", true));
  if (!HttpsUrl(s.issuer)) {
    return r.Error(r.At("staff.issuer"), "staff.issuer: expected an https URL (http only on a loopback address)");
  }
  ASSIGN_OR_RETURN(s.client_id, r.String("staff", "client_id", true));
  if (s.client_id.empty() || s.client_id.size() > 255) {
    return r.Error(r.At("staff.client_id"), "staff.client_id: expected 1 to 255 characters");
  }
  ASSIGN_OR_RETURN(std::string secret, r.String("staff", "client_secret", true));
  std::string_view rest = secret;
  if (ConsumePrefix(&rest, "sealed:") && !rest.empty()) {
    s.client_secret = StrCat("sealed:", r.Resolve(std::string(rest)));
  } else if (rest = secret; ConsumePrefix(&rest, "credential:") && !rest.empty() && rest.size() <= 255 &&
                             rest.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") ==
                                 std::string_view::npos) {
    s.client_secret = secret;
  } else {
    // Never echo the value: it may be the secret itself.
    return r.Error(r.At("staff.client_secret"),
                   "staff.client_secret: expected sealed:PATH or credential:NAME (the secret itself never goes in "
                   "this file)");
  }
  ASSIGN_OR_RETURN(s.redirect_uri, r.String("staff", "redirect_uri", true));
  if (!HttpsUrl(s.redirect_uri)) {
    return r.Error(r.At("staff.redirect_uri"), "staff.redirect_uri: expected an https URL (http only on a loopback address)");
  }
  ASSIGN_OR_RETURN(std::string claim, r.String("staff", "roles_claim", false));
  if (!claim.empty()) s.roles_claim = claim;
  if (const toml::node* roles = r.At("staff.roles")) {
    if (!roles->is_table()) return r.Error(roles, "staff.roles: expected a table of issuer value = staff role");
    for (const auto& [value, role] : *roles->as_table()) {
      if (!role.is_string() || !RoleName(role.as_string()->get())) {
        return r.Error(&role, "staff.roles: each value must be a staff role (a-z, 0-9, _ and -)");
      }
      s.roles[std::string(value.str())] = std::string(role.as_string()->get());
    }
  }
  if (s.roles.empty()) return r.Error(r.At("staff"), "staff.roles: map at least one issuer value to a staff role");
  if (const toml::node* algs = r.At("staff.algorithms")) {
    const toml::array* list = algs->as_array();
    if (list == nullptr || list->empty()) return r.Error(algs, "staff.algorithms: expected a list of RS256, PS256, ES256");
    s.algorithms.clear();
    for (const toml::node& a : *list) {
      const std::string alg = a.is_string() ? std::string(a.as_string()->get()) : "";
      if (alg != "RS256" && alg != "PS256" && alg != "ES256") {
        return r.Error(&a, "staff.algorithms: expected a list of RS256, PS256, ES256 (never none or HMAC)");
      }
      s.algorithms.push_back(alg);
    }
  }
  ASSIGN_OR_RETURN(int64_t skew, r.Integer("staff", "skew_seconds", 60, 0, 300));
  s.skew = std::chrono::seconds(skew);
  ASSIGN_OR_RETURN(int64_t idle, r.Integer("staff", "idle_minutes", 15, 1, 120));
  s.idle = std::chrono::minutes(idle);
  ASSIGN_OR_RETURN(int64_t absolute, r.Integer("staff", "absolute_hours", 8, 1, 24));
  s.absolute = std::chrono::hours(absolute);
  ASSIGN_OR_RETURN(s.ca_file, r.String("staff", "ca_file", false));
  s.ca_file = r.Resolve(s.ca_file);
  return s;
}

template <typename Quote>
std::string StaffToml(const StaffConfig& s, Quote q) {
  std::string algs, roles;
  for (const auto& a : s.algorithms) algs += (algs.empty() ? "" : ", ") + q(a);
  for (const auto& [value, role] : s.roles) roles += StrCat(q(value), " = ", q(role), "\n");
  return StrCat("\n[staff]\nissuer = ", q(s.issuer), "\nclient_id = ", q(s.client_id),
                "\nclient_secret = ", q(s.client_secret), "\nredirect_uri = ", q(s.redirect_uri),
                "\nroles_claim = ", q(s.roles_claim), "\nalgorithms = [", algs, "]\nskew_seconds = ", s.skew.count(),
                "\nidle_minutes = ", s.idle.count(), "\nabsolute_hours = ", s.absolute.count(),
                s.ca_file.empty() ? "" : StrCat("\nca_file = ", q(s.ca_file)), "\n\n[staff.roles]\n", roles);
}

template <typename Quote>
std::string LocalList(const std::vector<std::string>& files, Quote q) {
  std::string out;
  for (const auto& f : files) out += (out.empty() ? "" : ", ") + q(f);
  return out;
}

}  // namespace

absl::StatusOr<NodeConfig> NodeConfig::Load(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  const std::string dir = std::filesystem::absolute(path).parent_path().string();
  return Parse(*text, dir, path);
}

absl::StatusOr<NodeConfig> NodeConfig::Parse(std::string_view text, const std::string& base_dir,
                                             const std::string& source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(
        StrCat(source, ":", e.source().begin.line, ": ", std::string_view(e.description())));
  }
  Reader r(root, source, base_dir);
  RETURN_IF_ERROR(r.CheckSchema());

  NodeConfig c;
  ASSIGN_OR_RETURN(c.org, r.String("node", "org", true));
  if (c.org.empty()) return r.Error(r.At("node.org"), "node.org: must not be empty");
  ASSIGN_OR_RETURN(c.data_dir, r.Path("node", "data_dir"));
  ASSIGN_OR_RETURN(c.manifest, r.Path("network", "manifest"));
  ASSIGN_OR_RETURN(c.operator_key, r.Path("network", "operator_key"));
  ASSIGN_OR_RETURN(c.ca_cert, r.Path("network", "ca_cert"));
  ASSIGN_OR_RETURN(std::string master, r.String("keys", "master_key", true));
  if (!master.starts_with("file:") && !master.starts_with("passphrase-file:") &&
      !master.starts_with("passphrase-env:") && !master.starts_with("passphrase-credential:")) {
    return r.Error(r.At("keys.master_key"), "keys.master_key: expected a URI starting with file:, passphrase-file:, "
                                            "passphrase-env: or passphrase-credential:");
  }
  c.master_key = ResolveUri(r, master);
  ASSIGN_OR_RETURN(c.identity, r.Path("keys", "identity"));
  ASSIGN_OR_RETURN(c.tls_cert, r.Path("keys", "tls_cert"));
  ASSIGN_OR_RETURN(c.oprf_share, r.String("keys", "oprf_share", false));
  c.oprf_share = r.Resolve(c.oprf_share);
  ASSIGN_OR_RETURN(c.peer_listen, r.String("peer", "listen", true));
  RETURN_IF_ERROR(CheckListen(r, c.peer_listen));
  ASSIGN_OR_RETURN(int64_t timeout, r.Integer("peer", "timeout_ms", 2000, 10, 600000));
  c.peer_timeout = std::chrono::milliseconds(timeout);
  ASSIGN_OR_RETURN(int64_t max_bytes, r.Integer("peer", "max_message_bytes", 1 << 20, 1024, 64 << 20));
  c.max_message_bytes = static_cast<int>(max_bytes);
  ASSIGN_OR_RETURN(c.policy_network, r.Path("policy", "network"));
  if (const toml::node* local = r.At("policy.local")) {
    const toml::array* files = local->as_array();
    if (files == nullptr) return r.Error(local, "policy.local: expected a list of file paths");
    for (const toml::node& f : *files) {
      if (!f.is_string()) return r.Error(&f, "policy.local: expected a list of file paths");
      c.policy_local.push_back(r.Resolve(std::string(f.as_string()->get())));
    }
  }
  ASSIGN_OR_RETURN(c.local_socket, r.Path("local", "socket"));
  ASSIGN_OR_RETURN(c.metrics_listen, r.String("metrics", "listen", false));
  if (!c.metrics_listen.empty()) {
    RETURN_IF_ERROR(CheckListen(r, c.metrics_listen, "metrics.listen"));
    RETURN_IF_ERROR(CheckLoopback(r, c.metrics_listen));
  }
  if (r.At("staff") != nullptr) {
    ASSIGN_OR_RETURN(StaffConfig staff, ParseStaff(r));
    c.staff = std::move(staff);
  }
  ASSIGN_OR_RETURN(std::string level, r.String("log", "level", false));
  if (!level.empty()) c.log_level = level;
  if (c.log_level != "debug" && c.log_level != "info" && c.log_level != "warn" && c.log_level != "error") {
    return r.Error(r.At("log.level"), "log.level: expected debug, info, warn or error");
  }
  return c;
}

std::string NodeConfig::ToToml() const {
  auto q = [](std::string_view s) {
    std::ostringstream os;
    os << toml::value<std::string>(std::string(s));
    return os.str();
  };
  return StrCat("# casenode configuration; see README.md \"Configuration\".\n",
                "[node]\norg = ", q(org), "\ndata_dir = ", q(data_dir), "\n\n",
                "[network]\nmanifest = ", q(manifest), "\noperator_key = ", q(operator_key),
                "\nca_cert = ", q(ca_cert), "\n\n",
                "[keys]\nmaster_key = ", q(master_key), "\nidentity = ", q(identity), "\ntls_cert = ", q(tls_cert),
                oprf_share.empty() ? "" : StrCat("\noprf_share = ", q(oprf_share)), "\n\n", "[peer]\nlisten = ", q(peer_listen), "\ntimeout_ms = ", peer_timeout.count(),
                "\nmax_message_bytes = ", max_message_bytes, "\n\n",
                "[policy]\nnetwork = ", q(policy_network), "\nlocal = [", LocalList(policy_local, q), "]\n\n",
                "[local]\nsocket = ", q(local_socket), "\n\n", "[log]\nlevel = ", q(log_level), "\n",
                metrics_listen.empty() ? "" : StrCat("\n[metrics]\nlisten = ", q(metrics_listen), "\n"),
                staff ? StaffToml(*staff, q) : std::string());
}

}  // namespace casenode::node
