// casectl node status | health | ping ORG | reload | backup | sweep | declare-gap
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <filesystem>

#include "cli/commands.h"
#include "cli/local_client.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "network/manifest.h"

namespace casenode::cli {
namespace {

nlohmann::ordered_json PeerJson(const v1::PeerReachability& p) {
  nlohmann::ordered_json j{{"org", p.org()},
                           {"role", network::RoleName(p.role())},
                           {"reachable", p.reachable()},
                           {"rtt_ms", p.reachable() ? nlohmann::ordered_json(p.rtt_ms()) : nullptr}};
  if (!p.reachable()) j["error"] = p.error();
  return j;
}

std::string PeerLine(const v1::PeerReachability& p) {
  char buf[256];
  if (p.reachable()) {
    std::snprintf(buf, sizeof buf, "  %-12s %-10s reachable    %7.2f ms", p.org().c_str(),
                  std::string(network::RoleName(p.role())).c_str(), p.rtt_ms());
  } else {
    std::snprintf(buf, sizeof buf, "  %-12s %-10s UNREACHABLE  %s", p.org().c_str(),
                  std::string(network::RoleName(p.role())).c_str(), p.error().c_str());
  }
  return buf;
}

nlohmann::ordered_json ViewsJson(const google::protobuf::RepeatedPtrField<v1::WitnessView>& views) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& v : views) {
    out.push_back({{"org", v.org()}, {"known_size", v.known_size()}, {"offered_size", v.offered_size()}});
  }
  return out;
}

// The node's gRPC health over its Local socket: exit 0 if it serves, 1 if
// not (or cannot be asked). For container HEALTHCHECKs and Kubernetes probes.
int Health(const Globals& g) {
  grpc::health::v1::HealthCheckResponse r;
  grpc::Status s = CallLocal(g, &grpc::health::v1::Health::Stub::Check, grpc::health::v1::HealthCheckRequest(), &r);
  if (!s.ok()) return Fail(s);
  const std::string status = grpc::health::v1::HealthCheckResponse::ServingStatus_Name(r.status());
  if (g.json()) {
    PrintJson({{"status", status}});
  } else {
    std::cout << status << "\n";
  }
  return r.status() == grpc::health::v1::HealthCheckResponse::SERVING ? kOk : kFailed;
}

int Status(const Globals& g) {
  v1::StatusResponse r;
  grpc::Status s = CallLocal(g, &v1::LocalNode::Stub::Status, v1::StatusRequest(), &r);
  if (!s.ok()) return Fail(s);
  size_t reachable = 0;
  for (const auto& p : r.peers()) reachable += p.reachable() ? 1 : 0;
  if (g.json()) {
    nlohmann::ordered_json peers = nlohmann::ordered_json::array();
    for (const auto& p : r.peers()) peers.push_back(PeerJson(p));
    PrintJson({{"org", r.org()},
               {"role", network::RoleName(r.role())},
               {"network", r.network()},
               {"manifest_version", r.manifest_version()},
               {"peers", peers},
               {"audit",
                {{"tree_size", r.audit().tree_size()},
                 {"witnessed_size", r.audit().witnessed_size()},
                 {"cosignatures", r.audit().cosignatures()},
                 {"behind", ViewsJson(r.audit().behind())},
                 {"refused", ViewsJson(r.audit().refused())},
                 {"consent_hold_generation", r.audit().consent_hold().generation()},
                 {"consent_hold_lost_revocations", r.audit().consent_hold().lost_revocations()}}}});
  } else {
    std::cout << r.org() << " (" << network::RoleName(r.role()) << ") in network " << r.network()
              << ", manifest version " << r.manifest_version() << ": " << reachable << " of " << r.peers_size()
              << " peers reachable\n";
    for (const auto& p : r.peers()) std::cout << PeerLine(p) << "\n";
    const v1::AuditStatus& a = r.audit();
    std::cout << "audit log: " << a.tree_size() << " entries, " << a.witnessed_size() << " cosigned by "
              << a.cosignatures() << " witnesses\n";
    for (const auto& v : a.behind()) {
      std::cout << "  BEHIND: witness " << v.org() << " holds " << v.known_size() << " entries of this log, it has "
                << v.offered_size() << " (restored from an older copy?)\n";
    }
    for (const auto& v : a.refused()) {
      std::cout << "  REFUSED as witness: " << v.org() << " offered " << v.offered_size()
                << " entries, inconsistent with the " << v.known_size() << " cosigned (evidence kept)\n";
    }
    if (a.consent_hold().generation() > 0) {
      std::cout << "  CONSENT HOLD (generation " << a.consent_hold().generation()
                << "): a restore lost revocations; receipts issued before it are answered UNCONFIRMED until staff "
                   "run `casectl consent confirm ID`\n";
    }
  }
  return reachable == static_cast<size_t>(r.peers_size()) ? kOk : kFailed;
}

int Ping(const Globals& g, const std::string& org, const std::string& subject_hex,
         const std::vector<std::string>& consent_files) {
  v1::PingPeerRequest req;
  req.set_org(org);
  if (!subject_hex.empty()) {
    auto subject = SubjectBytes(subject_hex);
    if (!subject.ok()) return Fail(subject.status());
    req.set_subject(*subject);
  }
  for (const auto& f : consent_files) {
    auto receipt = ReadReceiptFile(f);
    if (!receipt.ok()) return Fail(receipt.status());
    *req.add_consent_receipts() = *std::move(receipt);
  }
  v1::PeerReachability r;
  grpc::Status s = CallLocal(g, &v1::LocalNode::Stub::PingPeer, req, &r);
  if (!s.ok()) return Fail(s);
  if (g.json()) {
    PrintJson(PeerJson(r));
  } else {
    std::cout << PeerLine(r).substr(2) << "\n";
  }
  return r.reachable() ? kOk : kFailed;
}

int Reload(const Globals& g) {
  v1::ReloadResponse r;
  grpc::Status s = CallLocal(g, &v1::LocalNode::Stub::Reload, v1::ReloadRequest(), &r);
  if (!s.ok()) return Fail(s);
  if (g.json()) {
    PrintJson({{"manifest_version", r.manifest_version()}, {"policy_hash", r.policy_hash()}});
  } else {
    std::cout << "manifest version " << r.manifest_version() << " and policy " << r.policy_hash() << " in force\n";
  }
  return kOk;
}

int PolicyShow(const Globals& g) {
  v1::PolicyShowResponse r;
  grpc::Status s = CallLocal(g, &v1::LocalPolicy::Stub::Show, v1::PolicyShowRequest(), &r);
  if (!s.ok()) return Fail(s);
  if (g.json()) {
    PrintJson({{"name", r.name()},
               {"policy_hash", r.policy_hash()},
               {"network_policy_hash", r.network_policy_hash()},
               {"rule_count", r.rule_count()},
               {"local_files", std::vector<std::string>(r.local_files().begin(), r.local_files().end())}});
  } else {
    std::cout << r.name() << "\npolicy " << r.policy_hash() << " (" << r.rule_count() << " rules)\nnetwork policy "
              << r.network_policy_hash() << " (as in the manifest)\n";
    for (const auto& f : r.local_files()) std::cout << "local rules " << f << "\n";
  }
  return kOk;
}

int Backup(const Globals& g, const std::string& dir) {
  v1::BackupRequest req;
  req.set_dir(std::filesystem::absolute(dir).lexically_normal().string());
  v1::BackupResponse r;
  grpc::Status s = CallLocal(g, &v1::LocalNode::Stub::Backup, req, &r);
  if (!s.ok()) return Fail(s);
  if (g.json()) {
    PrintJson({{"dir", r.dir()}});
  } else {
    std::cout << "backup of the records written to " << r.dir()
              << " (encrypted; holds no data keys: restore needs this node's key store)\n";
  }
  return kOk;
}

// A scheduled backup's directory name: casenode-YYYYMMDDTHHMMSS.mmmZ (UTC),
// so names sort by time.
constexpr std::string_view kScheduledPrefix = "casenode-";

std::string ScheduledName(std::chrono::system_clock::time_point now) {
  const auto ms = std::chrono::floor<std::chrono::milliseconds>(now);
  const std::time_t secs = std::chrono::system_clock::to_time_t(std::chrono::floor<std::chrono::seconds>(ms));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s%04d%02d%02dT%02d%02d%02d.%03dZ", std::string(kScheduledPrefix).c_str(),
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>((ms.time_since_epoch() % std::chrono::seconds(1)).count()));
  return buf;
}

bool IsScheduledName(const std::string& name) {
  // casenode-20261129T091000.123Z
  if (name.size() != kScheduledPrefix.size() + 20 || !name.starts_with(kScheduledPrefix)) return false;
  const std::string_view rest = std::string_view(name).substr(kScheduledPrefix.size());
  for (size_t i = 0; i < rest.size(); ++i) {
    const char c = rest[i];
    const bool ok = i == 8 ? c == 'T' : i == 15 ? c == '.' : i == 19 ? c == 'Z' : (c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// `casectl node backup --into PARENT [--keep N]`: a new backup under PARENT,
// then only the newest N scheduled backups there are kept (other entries are
// never touched). For the systemd timer (deploy/systemd/casenode-backup.*).
int ScheduledBackup(const Globals& g, const std::string& parent, int keep) {
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec) {
    std::cerr << "casectl: --into: cannot create " << parent << ": " << ec.message() << "\n";
    return kFailed;
  }
  const std::string dir = (std::filesystem::path(parent) / ScheduledName(std::chrono::system_clock::now())).string();
  v1::BackupRequest req;
  req.set_dir(std::filesystem::absolute(dir).lexically_normal().string());
  v1::BackupResponse r;
  grpc::Status s = CallLocal(g, &v1::LocalNode::Stub::Backup, req, &r);
  if (!s.ok()) return Fail(s);
  // The newest N by name (UTC time), never the one just made: after the
  // clock stepped back it would sort oldest.
  const std::string made = std::filesystem::path(dir).filename().string();
  std::vector<std::string> scheduled;
  std::filesystem::directory_iterator it(parent, ec);
  for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name != made && !it->is_symlink() && it->is_directory() && IsScheduledName(name)) scheduled.push_back(name);
  }
  if (ec) {
    std::cerr << "casectl: --keep: cannot list " << parent << ": " << ec.message() << "\n";
    return kFailed;
  }
  std::sort(scheduled.begin(), scheduled.end());
  if (!scheduled.empty() && scheduled.back() > made) {
    std::cerr << "casectl: warning: " << scheduled.back() << " is newer than the backup just made (" << made
              << "): has the clock gone back?\n";
  }
  std::vector<std::string> removed;
  const size_t others = keep > 0 ? static_cast<size_t>(keep) - 1 : scheduled.size();  // the new one counts
  for (size_t i = 0; i + others < scheduled.size(); ++i) {
    std::filesystem::remove_all(std::filesystem::path(parent) / scheduled[i], ec);
    if (ec) {
      std::cerr << "casectl: --keep: cannot remove " << scheduled[i] << ": " << ec.message() << "\n";
      return kFailed;
    }
    removed.push_back(scheduled[i]);
  }
  if (g.json()) {
    PrintJson({{"dir", r.dir()}, {"removed", removed}});
  } else {
    std::cout << "backup of the records written to " << r.dir() << "; removed " << removed.size()
              << " older backup(s), keeping " << (keep > 0 ? std::to_string(keep) : std::string("all")) << "\n";
  }
  return kOk;
}

int Sweep(const Globals& g) {
  v1::SweepResponse r;
  grpc::Status s = CallLocal(g, &v1::LocalNode::Stub::Sweep, v1::SweepRequest(), &r);
  if (!s.ok()) return Fail(s);
  if (g.json()) {
    PrintJson({{"expired", r.expired()}, {"shredded", r.shredded()}});
  } else {
    std::cout << "removed " << r.expired() << " expired and " << r.shredded() << " shredded records\n";
  }
  return kOk;
}

int Rotate(const Globals& g) {
  v1::RotateKeysResponse r;
  grpc::Status s = CallLocal(g, &v1::LocalKeys::Stub::Rotate, v1::RotateKeysRequest(), &r);
  if (!s.ok()) return Fail(s);
  if (g.json()) {
    PrintJson({{"kek_id", r.kek_id()}});
  } else {
    std::cout << "key-encryption key " << r.kek_id() << " active; every data key re-wrapped\n";
  }
  return kOk;
}

}  // namespace

void AddNodePolicyCommands(CLI::App& policy_cmd, const Globals& g, int* exit_code) {
  policy_cmd.add_subcommand("show", "The policy this node has in force: name, hash, rules, local files")
      ->callback([&g, exit_code] { *exit_code = PolicyShow(g); });
  policy_cmd.add_subcommand("reload", "Reload the manifest and policy (as SIGHUP does); keeps the old ones on error")
      ->callback([&g, exit_code] { *exit_code = Reload(g); });
}

void AddKeysCommands(CLI::App& app, const Globals& g, int* exit_code) {
  CLI::App* keys_cmd = app.add_subcommand("keys", "This node's key hierarchy");
  keys_cmd->require_subcommand(1);
  keys_cmd->add_subcommand("rotate", "Make a new key-encryption key and re-wrap every data key under it")
      ->callback([&g, exit_code] { *exit_code = Rotate(g); });
}

void AddNodeCommands(CLI::App& app, const Globals& g, int* exit_code) {
  CLI::App* node = app.add_subcommand("node", "This node: status, peers, reload");
  node->require_subcommand(1);

  node->add_subcommand("status", "Own organisation and role, manifest version, and every peer's reachability")
      ->callback([&g, exit_code] { *exit_code = Status(g); });

  node->add_subcommand("health", "SERVING (exit 0) or not (exit 1): the node's gRPC health, for probes")
      ->callback([&g, exit_code] { *exit_code = Health(g); });

  CLI::App* ping = node->add_subcommand("ping", "Ping one peer through the Peer service (mTLS)");
  static std::string org;
  static std::string ping_subject;
  static std::vector<std::string> consent_files;
  ping->add_option("ORG", org, "Organisation id of the peer, as in the manifest")->required();
  ping->add_option("--subject", ping_subject,
                   "The child the ping concerns (network pseudonym, 64 hex digits): attached receipts must be about it");
  ping->add_option("--consent", consent_files, "Attach a consent receipt (JSON file), repeatable");
  ping->callback([&g, exit_code] { *exit_code = Ping(g, org, ping_subject, consent_files); });

  node->add_subcommand("reload", "Reload the network manifest (as SIGHUP does); keeps the old one on error")
      ->callback([&g, exit_code] { *exit_code = Reload(g); });

  CLI::App* backup = node->add_subcommand(
      "backup", "Write a consistent, encrypted copy of the records to DIR (restore: casenode --restore DIR)");
  static std::string backup_dir;
  static std::string backup_into;
  static int backup_keep = 0;
  auto* dir_opt = backup->add_option("DIR", backup_dir, "A directory that does not exist yet, on the node's machine");
  auto* into_opt = backup->add_option("--into", backup_into,
                                      "Instead of DIR: a new casenode-<UTC time> directory under this one (scheduled "
                                      "backups)");
  dir_opt->excludes(into_opt);
  backup->add_option("--keep", backup_keep, "With --into: keep only the newest N scheduled backups there")
      ->check(CLI::Range(1, 100000))
      ->needs(into_opt);
  backup->callback([&g, exit_code, dir_opt, into_opt] {
    if (dir_opt->count() == 0 && into_opt->count() == 0) {
      std::cerr << "casectl: node backup: expected DIR or --into PARENT\n";
      *exit_code = kUsage;
      return;
    }
    *exit_code = into_opt->count() > 0 ? ScheduledBackup(g, backup_into, backup_keep) : Backup(g, backup_dir);
  });

  node->add_subcommand("sweep", "Delete expired records and records whose data key was shredded")
      ->callback([&g, exit_code] { *exit_code = Sweep(g); });

  static std::string declared_by;
  CLI::App* gap = node->add_subcommand(
      "declare-gap",
      "After restoring this node from an older copy (node status: BEHIND), declare the audit entries its\n"
      "witnesses saw beyond it lost. The gap is an entry of the log that every audit reports; the\n"
      "witnesses it names cosign the log again.");
  gap->add_option("--declared-by", declared_by, "Your pseudonymous operator id")
      ->required()
      ->envname("CASENODE_STAFF_ID");
  gap->callback([&g, exit_code] {
    v1::DeclareGapRequest req;
    req.set_declared_by(declared_by);
    v1::DeclareGapResponse r;
    grpc::Status s = CallLocal(g, &v1::LocalNode::Stub::DeclareGap, req, &r);
    if (!s.ok()) {
      *exit_code = Fail(s);
      return;
    }
    if (g.json()) {
      PrintJson({{"gap_seq", r.gap_seq()}, {"cosignatures", r.cosignatures()}});
    } else {
      std::cout << "gap declared at seq " << r.gap_seq() << "; cosigned since by " << r.cosignatures()
                << " witnesses\n";
    }
    *exit_code = kOk;
  });
}

}  // namespace casenode::cli
