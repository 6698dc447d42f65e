#include <sys/stat.h>

#include <filesystem>
#include <thread>

#include "base/log.h"
#include "base/strings.h"
#include "node/parts.h"

namespace casenode::node {
namespace {

// Bytes of the files under `dir`, for metrics; files that vanish while it
// counts (a compaction) are skipped.
uint64_t DirectoryBytes(const std::string& dir) {
  uint64_t bytes = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) {
      const uint64_t size = it->file_size(size_ec);
      if (!size_ec) bytes += size;
    }
  }
  return bytes;
}

}  // namespace

absl::Status Node::Start() {
  Parts& p = *parts_;
  // From here on this manifest is accepted: no older one may come back.
  RETURN_IF_ERROR(Annotate("network.manifest", p.network->CommitVersion()));
  // A restore never revives a revocation (consent_book.h).
  RETURN_IF_ERROR(Annotate("node.data_dir (consent hold)", LoadConsentHold(p.consents, *p.audit, p.config.org)));
  grpc::EnableDefaultHealthCheckService(true);
  p.peer_server = StartServer({p.config.peer_listen, PeerServerCredentials(*p.tls), {&p.peer_service},
                               CallMetrics(p.metrics, "peer"), p.config.max_message_bytes});
  if (!p.peer_server) {
    return absl::UnavailableError(StrCat("peer.listen: cannot listen on ", p.config.peer_listen,
                                         " (address in use or not local?)"));
  }
  // A stale socket from a crashed run would make bind fail; nothing else may own this path.
  std::error_code ec;
  std::filesystem::remove(p.config.local_socket, ec);
  p.local_server = StartServer({"unix:" + p.config.local_socket, grpc::InsecureServerCredentials(),
                                {&p.node_service, &p.keys_service, &p.policy_service, &p.consent_service,
                                 &p.pseudonym_service, &p.signal_service, &p.case_service, &p.audit_service},
                                CallMetrics(p.metrics, "local")});
  if (!p.local_server) return absl::UnavailableError(StrCat("local.socket: cannot listen on ", p.config.local_socket));
  if (::chmod(p.config.local_socket.c_str(), 0600) != 0) {
    return absl::UnavailableError(StrCat("local.socket: cannot set mode 0600 on ", p.config.local_socket));
  }
  if (!p.config.metrics_listen.empty()) {
    std::string error;
    p.metrics_server = MetricsServer::Start(p.config.metrics_listen, [this] { return ScrapeMetrics(); }, &error);
    if (!p.metrics_server) return absl::UnavailableError(error);
  }
  p.notifier.Start();     // notices left in the outbox by an earlier run go out now
  p.case_keeper.Start();  // so do case orders, and destruction that came due while down
  p.publisher.Start();    // the witnesses learn this log's size, and this node whether it is behind
  p.alarms.Start();       // alarms not yet with the auditor go now
  Log(LogLevel::kInfo, "node.ready",
      {{"org", p.config.org}, {"peer_listen", p.config.peer_listen}, {"local_socket", p.config.local_socket},
       {"manifest_version", p.network->manifest()->version}, {"policy_hash", p.gate.policy()->hash()}});
  return absl::OkStatus();
}

std::string Node::ScrapeMetrics() {
  Parts& p = *parts_;
  const v1::AuditStatus audit = p.publisher.Status();
  Metrics::Snapshot s;
  s.audit_log_size = audit.tree_size();
  s.audit_witnessed_size = audit.witnessed_size();
  s.audit_cosignatures = static_cast<uint64_t>(audit.cosignatures());
  s.audit_witnesses_behind = static_cast<uint64_t>(audit.behind_size());
  s.audit_witnesses_refused = p.witness.Refused().size();
  s.consent_hold_generation = p.consents.hold().generation();
  s.manifest_version = p.network->manifest()->version;
  if (auto cases = p.cases.List(); cases.ok()) {
    for (const v1::CaseIndex& c : *cases) {
      switch (c.state()) {
        case v1::CASE_INVITED: ++s.cases_invited; break;
        case v1::CASE_OPEN: ++s.cases_open; break;
        case v1::CASE_CLOSED: ++s.cases_closed; break;
        case v1::CASE_DESTROYED: ++s.cases_destroyed; break;
        default: break;
      }
    }
  }
  if (auto orders = p.cases.Orders(); orders.ok()) s.case_orders_pending = orders->size();
  if (auto outbox = p.signals.Outbox(); outbox.ok()) s.notices_pending = outbox->size();
  s.store_bytes = DirectoryBytes(p.config.data_dir + "/records");
  s.key_store_bytes = DirectoryBytes(p.config.data_dir + "/keys");
  s.peers_reachable = p.peers.Reachable();
  return p.metrics.Scrape(s);
}

absl::Status Node::Healthy() const {
  if (!parts_->peer_server || !parts_->local_server) return absl::UnavailableError("not serving");
  return parts_->audit->Probe();
}

void Node::Shutdown(std::chrono::milliseconds grace) {
  Parts& p = *parts_;
  const auto deadline = std::chrono::system_clock::now() + grace;
  if (p.metrics_server) p.metrics_server->Stop();
  p.notifier.Stop();  // what it has not delivered stays in the outbox for the next start
  p.case_keeper.Stop();
  p.publisher.Stop();
  p.alarms.Stop();
  for (grpc::Server* server : {p.peer_server.get(), p.local_server.get()}) {
    if (server == nullptr) continue;
    if (auto* health = server->GetHealthCheckService()) health->SetServingStatus(false);
  }
  // Shutdown(deadline) stops accepting at once and lets in-flight calls run
  // until the deadline. Both servers drain concurrently: a Local call may be
  // waiting on a peer.
  std::thread local_stop([&] {
    if (p.local_server) p.local_server->Shutdown(deadline);
  });
  if (p.peer_server) p.peer_server->Shutdown(deadline);
  local_stop.join();
  if (p.peer_server || p.local_server) Log(LogLevel::kInfo, "node.stopped", {{"org", p.config.org}});
  p.peer_server.reset();
  p.local_server.reset();
}

}  // namespace casenode::node
