// casectl network init DIR | remove DIR ORG: the network operator's commands.
//
// DIR/network holds the operator material (see keys/network_operator.h);
// DIR/<org> holds one node: casenode.toml, master.key (0600), identity.sealed,
// cert.pem and data/.
#include <sodium.h>

#include <algorithm>
#include <filesystem>

#include "base/file.h"
#include "base/status.h"
#include "base/strings.h"
#include "cli/commands.h"
#include "keys/network_operator.h"
#include "keys/x509.h"
#include "node/config/config.h"
#include "policy/policy.h"

namespace casenode::cli {
namespace {

namespace fs = std::filesystem;

struct OrgSpec {
  std::string org;
  keys::Role role;
  std::string name;
};

struct InitOptions {
  std::string dir;
  std::string network = "regio-flevoland";
  std::vector<std::string> orgs;
  std::string host = "127.0.0.1";
  int base_port = 7101;
  int validity_days = 365;
  int oprf_threshold = 2;
  std::string passphrase_env;           // the nodes' master keys
  std::string operator_passphrase_env;  // the operator's CA and signing keys
  std::string policy_dir = CASENODE_DEFAULT_POLICY_DIR;
};

const std::vector<std::string> kDefaultOrgs = {
    "school:school:OBS De Regenboog",
    "jeugdhulp:jeugdhulp:Jeugdhulp Flevoland",
    "politie:politie:Politie Midden-Nederland",
    "gemeente:gemeente:Gemeente Almere",
    "auditor:auditor:Functionaris Gegevensbescherming",
};

absl::StatusOr<OrgSpec> ParseOrg(const std::string& text) {
  const size_t a = text.find(':');
  if (a == std::string::npos) {
    return absl::InvalidArgumentError(StrCat("--org \"", text, "\": expected ORG:ROLE[:DISPLAY NAME]"));
  }
  const size_t b = text.find(':', a + 1);
  OrgSpec spec;
  spec.org = text.substr(0, a);
  const std::string role = text.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
  auto parsed = keys::ParseRole(role);
  if (!parsed) {
    return absl::InvalidArgumentError(
        StrCat("--org \"", text, "\": role \"", role, "\" is not school, jeugdhulp, politie, gemeente or auditor"));
  }
  spec.role = *parsed;
  spec.name = b == std::string::npos ? spec.org : text.substr(b + 1);
  return spec;
}

// With its own passphrase, the operator's CA and signing keys are sealed under
// it: a key file beside them would leave them as exposed as if they were in
// the clear. Without one, DIR/network/operator.master.key. Never the nodes'
// passphrase: every organisation's IT knows that one, and whoever holds the
// operator's keys can issue certificates and sign manifests for the network.
absl::StatusOr<keys::NetworkOperator> CreateOperator(const std::string& dir, const std::string& network,
                                                     const keys::SecretBytes& passphrase, SystemTime now) {
  if (passphrase.empty()) return keys::NetworkOperator::Create(dir, network, "", now);
  ASSIGN_OR_RETURN(keys::MasterKey master, keys::MasterKey::FromPassphrase(passphrase, keys::KdfParams::NewArgon2id()));
  return keys::NetworkOperator::Create(dir, network, master, now);
}

absl::StatusOr<nlohmann::ordered_json> Init(const InitOptions& o) {
  std::vector<OrgSpec> orgs;
  for (const std::string& text : o.orgs.empty() ? kDefaultOrgs : o.orgs) {
    ASSIGN_OR_RETURN(OrgSpec spec, ParseOrg(text));
    orgs.push_back(std::move(spec));
  }
  if (fs::exists(o.dir) && !fs::is_empty(o.dir)) {
    return absl::FailedPreconditionError(StrCat("DIR: ", o.dir, " exists and is not empty"));
  }
  const std::string dir = fs::absolute(o.dir).lexically_normal().string();
  const SystemTime now = SystemNow();
  const SystemTime not_after = now + std::chrono::days(o.validity_days);
  if (!o.passphrase_env.empty() && o.passphrase_env == o.operator_passphrase_env) {
    return absl::InvalidArgumentError(
        "--operator-passphrase-env: must not be the nodes' --passphrase-env; the operator's keys need a secret "
        "that no node operator holds");
  }
  // Read once and kept: a variable leaves the environment when read (keys/master_key.h).
  keys::SecretBytes passphrase, operator_passphrase;
  if (!o.passphrase_env.empty()) {
    ASSIGN_OR_RETURN(passphrase, keys::MasterKey::ReadPassphrase("passphrase-env:" + o.passphrase_env));
  }
  if (!o.operator_passphrase_env.empty()) {
    ASSIGN_OR_RETURN(operator_passphrase,
                     keys::MasterKey::ReadPassphrase("passphrase-env:" + o.operator_passphrase_env));
    if (!passphrase.empty() && sodium_memcmp(passphrase.data(), operator_passphrase.data(),
                                             std::min(passphrase.size(), operator_passphrase.size())) == 0 &&
        passphrase.size() == operator_passphrase.size()) {
      return absl::InvalidArgumentError(
          "--operator-passphrase-env: the operator's passphrase must differ from the nodes' passphrase");
    }
  }
  ASSIGN_OR_RETURN(keys::NetworkOperator op, CreateOperator(dir + "/network", o.network, operator_passphrase, now));

  // The network policy travels with the network: copied beside the manifest,
  // its hash signed into it.
  const std::string policy_dir = dir + "/network/policy";
  std::error_code pec;
  fs::create_directories(policy_dir, pec);
  if (pec) return absl::UnavailableError(StrCat("cannot create ", policy_dir, ": ", pec.message()));
  for (const auto& e : fs::directory_iterator(o.policy_dir, pec)) {
    if (!e.is_regular_file() || e.path().extension() != ".toml") continue;
    ASSIGN_OR_RETURN(std::string text, ReadFile(e.path().string()));
    RETURN_IF_ERROR(WriteFileAtomic(policy_dir + "/" + e.path().filename().string(), text, 0644));
  }
  if (pec) return absl::InvalidArgumentError(StrCat("--policy: cannot read ", o.policy_dir, ": ", pec.message()));
  auto policy = policy::Policy::Load(policy_dir);
  if (!policy.ok()) return absl::InvalidArgumentError(StrCat("--policy: ", std::string_view(policy.status().message().data(), policy.status().message().size())));

  keys::Manifest manifest;
  manifest.network = o.network;
  manifest.version = 1;
  manifest.issued_at = now;
  manifest.expires_at = not_after;
  manifest.policy_hash = (*policy)->hash();
  nlohmann::ordered_json nodes = nlohmann::ordered_json::array();
  for (size_t i = 0; i < orgs.size(); ++i) {
    const OrgSpec& spec = orgs[i];
    const std::string node_dir = dir + "/" + spec.org;
    std::error_code ec;
    fs::create_directories(node_dir + "/data", ec);
    if (ec) return absl::UnavailableError(StrCat("cannot create ", node_dir, ": ", ec.message()));

    std::string master_uri = "file:master.key";
    if (o.passphrase_env.empty()) {
      RETURN_IF_ERROR(keys::MasterKey::CreateKeyFile(node_dir + "/master.key"));
    } else {
      master_uri = "passphrase-env:" + o.passphrase_env;
    }
    ASSIGN_OR_RETURN(keys::MasterKey master,
                     passphrase.empty() ? keys::MasterKey::FromKeyFile(node_dir + "/master.key")
                                        : keys::MasterKey::FromPassphrase(passphrase, keys::KdfParams::NewArgon2id()));
    ASSIGN_OR_RETURN(keys::SecretBytes tls_key, keys::NewTlsKeyPem());
    ASSIGN_OR_RETURN(std::string cert, op.IssueCertificate(tls_key, spec.org, std::string(keys::RoleName(spec.role)),
                                                           now - std::chrono::minutes(5), not_after));
    const keys::NodeIdentity identity = keys::NodeIdentity::Generate(std::move(tls_key));
    RETURN_IF_ERROR(WriteFileAtomic(node_dir + "/identity.sealed",
                                    master.Seal(keys::kNodeIdentityPurpose, identity.Serialize().span()), 0600));
    RETURN_IF_ERROR(WriteFileAtomic(node_dir + "/cert.pem", cert, 0644));
    ASSIGN_OR_RETURN(std::string fingerprint, keys::CertificateFingerprint(cert));

    const std::string endpoint = StrCat(o.host, ":", o.base_port + static_cast<int>(i));
    node::NodeConfig config;
    config.org = spec.org;
    config.data_dir = "data";
    config.manifest = "../network/manifest.json";
    config.operator_key = "../network/operator.pub";
    config.ca_cert = "../network/ca.pem";
    config.master_key = master_uri;
    config.identity = "identity.sealed";
    config.tls_cert = "cert.pem";
    config.peer_listen = endpoint;
    config.policy_network = "../network/policy";
    config.local_socket = "local.sock";
    RETURN_IF_ERROR(WriteFileAtomic(node_dir + "/casenode.toml", config.ToToml(), 0644));

    manifest.nodes.push_back({spec.org, spec.name, spec.role, endpoint, fingerprint, identity.signing.public_key(),
                              identity.encryption_public});
    if (spec.role == keys::Role::ROLE_JEUGDHULP || spec.role == keys::Role::ROLE_POLITIE ||
        spec.role == keys::Role::ROLE_GEMEENTE) {
      manifest.oprf_holders.push_back(spec.org);
    }
    nodes.push_back({{"org", spec.org},
                     {"role", keys::RoleName(spec.role)},
                     {"endpoint", endpoint},
                     {"config", node_dir + "/casenode.toml"},
                     {"socket", node_dir + "/local.sock"}});
  }
  manifest.oprf_threshold =
      static_cast<uint32_t>(std::min<size_t>(static_cast<size_t>(o.oprf_threshold), manifest.oprf_holders.size()));
  RETURN_IF_ERROR(op.Publish(manifest));
  return nlohmann::ordered_json{{"network", o.network},
                                {"dir", dir},
                                {"manifest_version", 1},
                                {"policy_hash", manifest.policy_hash},
                                {"nodes", nodes}};
}

absl::StatusOr<uint64_t> Remove(const std::string& dir, const std::string& org,
                                const std::string& operator_passphrase_env) {
  const std::string op_dir = dir + "/network";
  std::string master_uri;  // "": the operator.master.key file
  if (!operator_passphrase_env.empty()) {
    master_uri = "passphrase-env:" + operator_passphrase_env;
  } else if (auto sealed = ReadFile(op_dir + "/operator.key.sealed"); sealed.ok()) {
    // Name the missing flag rather than leave "sealed with a passphrase, not a key file".
    auto header = keys::ReadSealedHeader(AsBytes(*sealed));
    if (header.ok() && header->kind == keys::KdfKind::kArgon2id) {
      return absl::InvalidArgumentError(StrCat("--operator-passphrase-env: the operator keys in ", op_dir,
                                               " are sealed with a passphrase; name the environment variable "
                                               "that holds it"));
    }
  }
  ASSIGN_OR_RETURN(keys::NetworkOperator op, keys::NetworkOperator::Open(op_dir, master_uri));
  ASSIGN_OR_RETURN(keys::Manifest m, op.Current());
  if (m.FindOrg(org) == nullptr) {
    return absl::InvalidArgumentError(StrCat("ORG: \"", org, "\" is not in manifest version ", m.version));
  }
  std::erase_if(m.nodes, [&](const keys::ManifestNode& n) { return n.org == org; });
  std::erase(m.oprf_holders, org);
  m.oprf_threshold = std::min<uint32_t>(m.oprf_threshold, static_cast<uint32_t>(m.oprf_holders.size()));
  m.version += 1;
  m.issued_at = std::min(SystemNow(), m.expires_at - std::chrono::seconds(1));
  RETURN_IF_ERROR(op.Publish(m));
  return m.version;
}

}  // namespace

void AddNetworkCommands(CLI::App& app, const Globals& g, int* exit_code) {
  CLI::App* network = app.add_subcommand("network", "Network operator: create a network, change its manifest");
  network->require_subcommand(1);

  static InitOptions init;
  CLI::App* init_cmd = network->add_subcommand(
      "init", "Create a network CA, operator key, signed manifest and one directory per node\n"
              "Example: casectl network init ./net --org school:school:'OBS De Regenboog' --org gemeente:gemeente");
  init_cmd->add_option("DIR", init.dir, "Empty or new directory")->required();
  init_cmd->add_option("--network", init.network, "Network name")->capture_default_str();
  init_cmd->add_option("--org", init.orgs, "ORG:ROLE[:DISPLAY NAME], repeatable (default: the five demo orgs)");
  init_cmd->add_option("--host", init.host, "Host of every Peer endpoint")->capture_default_str();
  init_cmd->add_option("--base-port", init.base_port, "Peer port of the first org; the next get +1, +2, ...")
      ->check(CLI::Range(1, 65000))
      ->capture_default_str();
  init_cmd->add_option("--validity-days", init.validity_days, "Certificate and manifest validity")
      ->check(CLI::Range(1, 3650))
      ->capture_default_str();
  init_cmd->add_option("--oprf-threshold", init.oprf_threshold, "Pseudonym key holders needed (t of n)")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  init_cmd->add_option("--policy", init.policy_dir, "Network policy directory to ship with the network")
      ->capture_default_str();
  init_cmd->add_option("--passphrase-env", init.passphrase_env,
                       "Seal every node's keys with the passphrase in this environment variable instead of key\n"
                       "files (each file with its own Argon2id salt). Each node reads the variable named in its\n"
                       "casenode.toml");
  init_cmd->add_option("--operator-passphrase-env", init.operator_passphrase_env,
                       "Seal the operator's CA and signing keys with the passphrase in this environment variable\n"
                       "instead of operator.master.key; it must differ from the nodes' passphrase. network remove\n"
                       "then needs the same option");
  init_cmd->callback([&g, exit_code] {
    auto result = Init(init);
    if (!result.ok()) {
      *exit_code = Fail(result.status());
      return;
    }
    if (g.json()) {
      PrintJson(*result);
    } else {
      std::cout << "created network " << (*result)["network"].get<std::string>() << " in "
                << (*result)["dir"].get<std::string>() << " with " << (*result)["nodes"].size() << " nodes:\n";
      for (const auto& n : (*result)["nodes"]) {
        std::cout << "  " << n["org"].get<std::string>() << " (" << n["role"].get<std::string>() << ") on "
                  << n["endpoint"].get<std::string>() << ", config " << n["config"].get<std::string>() << "\n";
      }
    }
    *exit_code = kOk;
  });

  static std::string remove_dir, remove_org, remove_passphrase_env;
  CLI::App* remove = network->add_subcommand(
      "remove", "Publish a new manifest version without ORG; nodes refuse it once they reload");
  remove->add_option("DIR", remove_dir, "Directory made by network init")->required();
  remove->add_option("ORG", remove_org, "Organisation id to remove")->required();
  remove->add_option("--operator-passphrase-env", remove_passphrase_env,
                     "Environment variable holding the operator's passphrase, if network init was given one");
  remove->callback([&g, exit_code] {
    auto version = Remove(remove_dir, remove_org, remove_passphrase_env);
    if (!version.ok()) {
      *exit_code = Fail(version.status());
      return;
    }
    if (g.json()) {
      PrintJson({{"removed", remove_org}, {"manifest_version", *version}});
    } else {
      std::cout << "published manifest version " << *version << " without " << remove_org
                << "; reload the nodes (casectl node reload, or SIGHUP)\n";
    }
    *exit_code = kOk;
  });
}

}  // namespace casenode::cli
