// Metrics: what an operator watches, in Prometheus text (prometheus-cpp core),
// served by MetricsServer on an optional loopback HTTP listener.
//
// Labels are bounded and name no one: methods, gRPC codes, policy rules,
// effects, reasons, consent statuses and organisation ids of the manifest.
// Never a BSN, pseudonym, receipt, case or staff id (tested with canaries).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <grpcpp/support/server_interceptor.h>

#include "policy/policy.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace casenode::node {

class Metrics {
 public:
  Metrics();

  // One finished gRPC call: `server` is "peer" or "local", `method` as
  // "Peer.LookupSignal", `code` as "OK".
  void Call(std::string_view server, std::string_view method, std::string_view code, double seconds);
  void Decision(bool allowed, std::string_view rule, std::string_view reason);
  void ConsentVerified(std::string_view status);
  // A gate decision and the consent facts it was decided on (PeerGate's observer).
  void Decided(const policy::Request& request, const policy::Decision& decision);
  // One call this node made to a peer (an organisation of the manifest),
  // from start to answer or failure: its round-trip time.
  void PeerCall(std::string_view peer, std::string_view code, double seconds);
  // A staff member's signal check: "complete" (every peer answered),
  // "incomplete", or "failed" (no answer at all, e.g. no pseudonym).
  void SignalCheck(std::string_view result);
  // A quota alarm this node raised (node/audit/alarms.h).
  void QuotaAlarm(std::string_view action, std::string_view kind);

  // Gauges set when scraped.
  struct Snapshot {
    uint64_t audit_log_size = 0;
    uint64_t audit_witnessed_size = 0;
    uint64_t audit_cosignatures = 0;
    uint64_t audit_witnesses_behind = 0;   // witnesses that hold more of this log than it has
    uint64_t audit_witnesses_refused = 0;  // nodes this node refused as a witness
    uint64_t consent_hold_generation = 0;
    uint64_t manifest_version = 0;
    // Cases this node takes part in, by state (node/cases), and the
    // invitations and destruction orders it has not yet delivered.
    uint64_t cases_invited = 0;
    uint64_t cases_open = 0;
    uint64_t cases_closed = 0;
    uint64_t cases_destroyed = 0;
    uint64_t case_orders_pending = 0;
    uint64_t notices_pending = 0;  // match notices not yet delivered (node/signals)
    // Bytes on disk of the record store and of the key store.
    uint64_t store_bytes = 0;
    uint64_t key_store_bytes = 0;
    // Peers this node has called, by org: false if the last connection attempt failed.
    std::vector<std::pair<std::string, bool>> peers_reachable;
  };
  // The exposition text, with the gauges from `snapshot`.
  std::string Scrape(const Snapshot& snapshot);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& calls_;
  prometheus::Family<prometheus::Histogram>& call_seconds_;
  prometheus::Family<prometheus::Counter>& decisions_;
  prometheus::Family<prometheus::Counter>& consents_;
  prometheus::Family<prometheus::Gauge>& gauges_;
  prometheus::Family<prometheus::Histogram>& peer_seconds_;
  prometheus::Family<prometheus::Gauge>& peer_reachable_;
  prometheus::Family<prometheus::Gauge>& store_bytes_;
  prometheus::Family<prometheus::Counter>& signal_checks_;
  prometheus::Family<prometheus::Counter>& quota_alarms_;
};

// A gRPC server interceptor that counts and times every call into `metrics`
// (server "peer" or "local"). `metrics` must outlive the server.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> CallMetrics(Metrics& metrics,
                                                                                    std::string server);

// A minimal HTTP/1.1 listener for GET /metrics on a loopback address (it has
// no TLS: the configuration refuses any other address). Runs its own thread.
class MetricsServer {
 public:
  using ScrapeFn = std::function<std::string()>;
  ~MetricsServer();
  // Binds `listen` ("127.0.0.1:9464"); an error if it cannot.
  [[nodiscard]] static std::unique_ptr<MetricsServer> Start(const std::string& listen, ScrapeFn scrape,
                                                            std::string* error);
  void Stop();

 private:
  struct Impl;
  explicit MetricsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace casenode::node
