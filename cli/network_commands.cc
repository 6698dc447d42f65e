// casectl network init DIR | remove DIR ORG: the network operator's commands,
// over provision (which says what DIR holds).
#include <filesystem>

#include "base/file.h"
#include "base/reason.h"
#include "base/status.h"
#include "base/strings.h"
#include "cli/commands.h"
#include "keys/master_key.h"
#include "provision/network_setup.h"

namespace casenode::cli {
namespace {

// The network policy shipped with casectl: installed beside the binary
// (BINDIR/../share/casenode/policy/network, as the Debian package puts it).
// Only a casectl in its own build tree uses the source tree's; any other
// gets the installed path, and `network init` names it if it is missing.
std::string DefaultPolicyDir() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return CASENODE_INSTALLED_POLICY_DIR;
  const std::filesystem::path installed = exe.parent_path().parent_path() / "share/casenode/policy/network";
  const std::string build = CASENODE_BUILD_DIR "/";
  if (!std::filesystem::is_directory(installed, ec) && exe.string().starts_with(build)) {
    return CASENODE_SOURCE_POLICY_DIR;
  }
  return installed.string();
}

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
  std::string policy_dir = DefaultPolicyDir();
  std::string kubernetes_dir;
  std::string image = "localhost/casenode:" CASENODE_VERSION;
};

// The plan from the options: flags checked, passphrases read (once: a
// variable leaves the environment when read, keys/master_key.h).
absl::StatusOr<provision::NetworkPlan> PlanFrom(const InitOptions& o) {
  provision::NetworkPlan plan;
  for (const std::string& text : o.orgs.empty() ? provision::DemoOrgSpecs() : o.orgs) {
    auto spec = provision::ParseOrgSpec(text);
    if (!spec.ok()) return Annotate("--org", spec.status());
    plan.orgs.push_back(*std::move(spec));
  }
  if (!o.passphrase_env.empty() && o.passphrase_env == o.operator_passphrase_env) {
    return absl::InvalidArgumentError(
        "--operator-passphrase-env: must not be the nodes' --passphrase-env; the operator's keys need a secret "
        "that no node operator holds");
  }
  if (!o.passphrase_env.empty()) {
    ASSIGN_OR_RETURN(plan.node_passphrase, keys::MasterKey::ReadPassphrase("passphrase-env:" + o.passphrase_env));
    plan.node_passphrase_env = o.passphrase_env;
  }
  if (!o.operator_passphrase_env.empty()) {
    ASSIGN_OR_RETURN(plan.operator_passphrase,
                     keys::MasterKey::ReadPassphrase("passphrase-env:" + o.operator_passphrase_env));
  }
  plan.dir = o.dir;
  plan.network = o.network;
  plan.host = o.host;
  plan.base_port = o.base_port;
  plan.validity_days = o.validity_days;
  plan.oprf_threshold = static_cast<uint32_t>(o.oprf_threshold);
  plan.policy_dir = o.policy_dir;
  plan.kubernetes_dir = o.kubernetes_dir;
  plan.kubernetes_image = o.image;
  return plan;
}

// The operator master key's URI for `network remove`; "" for the key file.
absl::StatusOr<std::string> OperatorMasterUri(const std::string& dir, const std::string& operator_passphrase_env) {
  if (!operator_passphrase_env.empty()) return "passphrase-env:" + operator_passphrase_env;
  // Name the missing flag rather than leave "sealed with a passphrase, not a key file".
  const std::string op_dir = dir + "/network";
  if (auto sealed = ReadFile(op_dir + "/operator.key.sealed"); sealed.ok()) {
    auto header = keys::ReadSealedHeader(AsBytes(*sealed));
    if (header.ok() && header->kind == keys::KdfKind::kArgon2id) {
      return absl::InvalidArgumentError(StrCat("--operator-passphrase-env: the operator keys in ", op_dir,
                                               " are sealed with a passphrase; name the environment variable "
                                               "that holds it"));
    }
  }
  return std::string();
}

}  // namespace

void AddNetworkCommands(CLI::App& app, const Globals& g, int* exit_code) {
  CLI::App* network = app.add_subcommand("network", "Network operator: create a network, change its manifest");
  network->require_subcommand(1);

  static InitOptions init;
  CLI::App* init_cmd = network->add_subcommand(
      "init",
      "Create a network CA, operator key, signed manifest and one directory per node\n"
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
  init_cmd->add_option("--oprf-threshold", init.oprf_threshold, "Pseudonym key holders needed (t of n, at least 2)")
      ->check(CLI::Range(2, 16))
      ->capture_default_str();
  init_cmd->add_option("--policy", init.policy_dir, "Network policy directory to ship with the network")
      ->capture_default_str();
  init_cmd->add_option("--kubernetes", init.kubernetes_dir,
                       "Make the network for a Kubernetes cluster and write its manifests (a kustomize base and an\n"
                       "overlay per organisation, holding that node's key material) into this new directory");
  init_cmd->add_option("--image", init.image, "Container image the Kubernetes manifests run")->capture_default_str();
  init_cmd->add_option("--passphrase-env", init.passphrase_env,
                       "Seal every node's keys with the passphrase in this environment variable instead of key\n"
                       "files (each file with its own Argon2id salt). Each node reads the variable named in its\n"
                       "casenode.toml");
  init_cmd->add_option("--operator-passphrase-env", init.operator_passphrase_env,
                       "Seal the operator's CA and signing keys with the passphrase in this environment variable\n"
                       "instead of operator.master.key; it must differ from the nodes' passphrase. network remove\n"
                       "then needs the same option");
  init_cmd->callback([&g, exit_code] {
    auto plan = PlanFrom(init);
    auto created = plan.ok() ? provision::CreateNetwork(*plan, SystemNow()) : plan.status();
    if (!created.ok()) {
      *exit_code = Fail(created.status());
      return;
    }
    if (g.json()) {
      nlohmann::ordered_json nodes = nlohmann::ordered_json::array();
      for (const provision::CreatedNode& n : created->nodes) {
        nodes.push_back({{"org", n.org},
                         {"role", network::RoleName(n.role)},
                         {"endpoint", n.endpoint},
                         {"config", n.config_path},
                         {"socket", n.socket_path}});
      }
      PrintJson({{"network", created->network},
                 {"dir", created->dir},
                 {"manifest_version", created->manifest_version},
                 {"policy_hash", created->policy_hash},
                 {"pseudonym_key", {{"threshold", created->oprf_threshold}, {"holders", created->oprf_holders}}},
                 {"nodes", nodes}});
    } else {
      std::cout << "created network " << created->network << " in " << created->dir << " with " << created->nodes.size()
                << " nodes:\n";
      for (const provision::CreatedNode& n : created->nodes) {
        std::cout << "  " << n.org << " (" << network::RoleName(n.role) << ") on " << n.endpoint << ", config "
                  << n.config_path << "\n";
      }
      if (created->oprf_holders == 0) {
        std::cout << "no pseudonym key: it needs at least 2 jeugdhulp, politie or gemeente nodes\n";
      } else {
        std::cout << "pseudonym key dealt " << created->oprf_threshold << " of " << created->oprf_holders
                  << "; the dealt key was never written\n";
      }
      if (!init.kubernetes_dir.empty()) {
        std::cout << "Kubernetes manifests in " << init.kubernetes_dir << ": kubectl apply -k "
                  << init.kubernetes_dir << "/overlays/<org> for each organisation (its key material is in "
                  << "overlays/<org>/secrets)\n";
      }
    }
    *exit_code = kOk;
  });

  static std::string remove_dir, remove_org, remove_passphrase_env;
  CLI::App* remove =
      network->add_subcommand("remove", "Publish a new manifest version without ORG; nodes refuse it once they reload");
  remove->add_option("DIR", remove_dir, "Directory made by network init")->required();
  remove->add_option("ORG", remove_org, "Organisation id to remove")->required();
  remove->add_option("--operator-passphrase-env", remove_passphrase_env,
                     "Environment variable holding the operator's passphrase, if network init was given one");
  remove->callback([&g, exit_code] {
    auto master_uri = OperatorMasterUri(remove_dir, remove_passphrase_env);
    auto version =
        master_uri.ok() ? provision::RemoveOrg(remove_dir, remove_org, *master_uri, SystemNow()) : master_uri.status();
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

  static std::string renew_dir, renew_org, renew_passphrase_env;
  static int renew_days = 365;
  static bool renew_finish = false;
  CLI::App* renew = network->add_subcommand(
      "renew",
      "Renew ORG's TLS certificate without a restart, in two steps: without --finish, issue a new certificate for "
      "its key (DIR/ORG/cert.next.pem) and publish a manifest in which peers also accept it; once every node has "
      "reloaded that, --finish publishes the new certificate as the one ORG presents");
  renew->add_option("DIR", renew_dir, "Directory made by network init")->required();
  renew->add_option("ORG", renew_org, "Organisation id whose certificate to renew")->required();
  renew->add_option("--days", renew_days, "Validity of the new certificate in days")->capture_default_str();
  renew->add_flag("--finish", renew_finish, "Second step: present the new certificate");
  renew->add_option("--operator-passphrase-env", renew_passphrase_env,
                    "Environment variable holding the operator's passphrase, if network init was given one");
  renew->callback([&g, exit_code] {
    auto master_uri = OperatorMasterUri(renew_dir, renew_passphrase_env);
    auto version = !master_uri.ok() ? master_uri.status()
                   : renew_finish   ? provision::FinishRenewal(renew_dir, renew_org, *master_uri, SystemNow())
                                    : provision::RenewCertificate(renew_dir, renew_org, *master_uri, SystemNow(), renew_days);
    if (!version.ok()) {
      *exit_code = Fail(version.status());
      return;
    }
    if (g.json()) {
      PrintJson({{"renewed", renew_org}, {"step", renew_finish ? "finish" : "start"}, {"manifest_version", *version}});
    } else if (!renew_finish) {
      std::cout << "published manifest version " << *version << ": peers also accept " << renew_org
                << "'s new certificate (" << renew_dir << "/" << renew_org << "/cert.next.pem); reload every node, "
                << "then run casectl network renew " << renew_dir << " " << renew_org << " --finish\n";
    } else {
      std::cout << "published manifest version " << *version << ": " << renew_org
                << " presents its new certificate from its next reload; reload every node\n";
    }
    *exit_code = kOk;
  });
}

}  // namespace casenode::cli
