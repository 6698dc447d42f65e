// casenode: the daemon. Flags, config, signals; everything else is Node.
//
// Exit codes: 0 after a clean shutdown, 1 when the node cannot start or run
// with the state it finds (wrong master key, a store from a newer casenode,
// corruption, a full disk, a listener it cannot bind), 2 for a usage or
// configuration error (the message names the key, file and line).
#include <signal.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "base/reason.h"
#include "base/process.h"
#include "base/strings.h"
#include "node/config/config.h"
#include "base/log.h"
#include "node/node.h"
#include "node/prepare.h"
#include "node/rpc/runtime.h"

using casenode::Log;
using casenode::LogLevel;

namespace {

int Fail(int code, std::string_view event, const absl::Status& status) {
  const std::string_view reason = casenode::ReasonName(casenode::ReasonOf(status));
  Log(LogLevel::kError, event,
      {{"error", std::string_view(status.message().data(), status.message().size())}, {"reason", reason}});
  std::cerr << "casenode: " << status.message();
  if (!reason.empty()) std::cerr << " (" << reason << ")";
  std::cerr << "\n";
  return code;
}

// 1 if the node cannot run with the state it found, 2 if the configuration is at fault.
int StartupExitCode(const absl::Status& status) {
  using casenode::Reason;
  switch (casenode::ReasonOf(status)) {
    case Reason::kWrongMasterKey:
    case Reason::kNewerFormat:
    case Reason::kStoreCorrupt:
    case Reason::kRecordCorrupt:
    case Reason::kDiskFull:
    case Reason::kManifestRollback:
      return 1;
    default:
      return status.code() == absl::StatusCode::kUnavailable ? 1 : 2;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"casenode: a privacy-preserving case-sharing node", "casenode"};
  app.set_version_flag("--version", "casenode " CASENODE_VERSION);
  std::string config_path;
  bool check_only = false;
  std::string restore_from;
  app.add_option("--config,-c", config_path, "TOML configuration file")->required()->envname("CASENODE_CONFIG");
  app.add_flag("--check-config", check_only, "Check the configuration and key material, then exit (like nginx -t)");
  app.add_option("--restore", restore_from,
                 "Restore the records from a backup made by 'casectl node backup', then exit.\n"
                 "The node must be stopped and data_dir/records must not exist (move it aside first).");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }

  casenode::DisableCoreDumps();
  if (sodium_init() < 0) return Fail(1, "node.start_failed", absl::InternalError("libsodium failed to initialise"));
  if (auto s = casenode::node::PrepareRpcRuntime(); !s.ok()) return Fail(1, "node.start_failed", s);
  ::umask(077);  // sockets, stores and files we create are ours alone

  // Block the signals we handle before gRPC starts threads; we read them with sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  auto config = casenode::node::NodeConfig::Load(config_path);
  if (!config.ok()) return Fail(2, "config.invalid", config.status());
  // Run as another user than the owner of its data (root restoring by hand,
  // say), the node would leave files its own user cannot open.
  struct stat data_dir_stat {};
  if (::stat(config->data_dir.c_str(), &data_dir_stat) == 0 && data_dir_stat.st_uid != ::geteuid()) {
    return Fail(2, "config.invalid",
                absl::FailedPreconditionError(casenode::StrCat(
                    "node.data_dir: ", config->data_dir, " belongs to uid ", data_dir_stat.st_uid,
                    ", but casenode runs as uid ", ::geteuid(),
                    "; run it as that user (under systemd: systemd-run --uid=casenode --gid=casenode ...)")));
  }
  casenode::SetLogLevel(config->log_level);

  if (!restore_from.empty()) {
    if (auto s = casenode::node::RestoreRecords(*config, restore_from); !s.ok()) {
      return Fail(2, "store.restore_failed", s);
    }
  }
  if (check_only && restore_from.empty()) {  // writes nothing, like nginx -t
    auto version = casenode::node::Node::Check(*config);
    if (!version.ok()) return Fail(StartupExitCode(version.status()), "node.check_failed", version.status());
    std::cout << "casenode: configuration ok (org " << config->org << ", manifest version " << *version << ")\n";
    return 0;
  }
  auto node = casenode::node::Node::Create(*config);
  if (!node.ok()) return Fail(StartupExitCode(node.status()), "node.start_failed", node.status());
  if (!restore_from.empty()) {
    Log(LogLevel::kInfo, "store.restored", {{"org", config->org}});
    std::cout << "casenode: records restored from " << restore_from << " and verified; start the node normally\n";
    return 0;
  }
  if (auto s = (*node)->Start(); !s.ok()) return Fail(1, "node.start_failed", s);
  sd_notify(0, "READY=1");

  // Under a systemd watchdog (WatchdogSec=), feed it at half its interval,
  // and only while the node is healthy: a node that cannot log cannot answer.
  // The next feed is a fixed point in time, so signals (a reload every few
  // seconds) cannot postpone it.
  uint64_t watchdog_usec = 0;
  const bool watchdog = sd_watchdog_enabled(0, &watchdog_usec) > 0 && watchdog_usec > 0;
  const auto interval = std::chrono::microseconds(watchdog_usec / 2);
  auto next_feed = std::chrono::steady_clock::now();
  for (;;) {
    int sig = 0;
    if (watchdog) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= next_feed) {
        if (absl::Status healthy = (*node)->Healthy(); healthy.ok()) {
          sd_notify(0, "WATCHDOG=1");
        } else {
          Log(LogLevel::kError, "node.unhealthy",
              {{"error", std::string_view(healthy.message().data(), healthy.message().size())}});
        }
        next_feed = now + interval;
      }
      const auto wait = std::chrono::duration_cast<std::chrono::nanoseconds>(next_feed - now);
      const timespec ts{static_cast<time_t>(wait.count() / 1'000'000'000), static_cast<long>(wait.count() % 1'000'000'000)};
      sig = sigtimedwait(&signals, nullptr, &ts);
      if (sig < 0) continue;  // the deadline (EAGAIN) or EINTR: feed if due
    } else if (sigwait(&signals, &sig) != 0) {
      continue;
    }
    if (sig == SIGHUP) {
      sd_notify(0, "RELOADING=1");
      (void)(*node)->Reload();
      sd_notify(0, "READY=1");
      continue;
    }
    Log(LogLevel::kInfo, "node.stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    sd_notify(0, "STOPPING=1");
    (*node)->Shutdown(std::chrono::seconds(10));
    return 0;
  }
}
