#include "node/metrics/metrics.h"

#include <httplib.h>
#include <prometheus/text_serializer.h>

#include <chrono>
#include <iterator>
#include <thread>

#include "base/reason.h"

namespace casenode::node {
namespace {

// Latency buckets from 100 µs to 10 s: local calls take microseconds, peer
// calls a round trip or a peer timeout.
const prometheus::Histogram::BucketBoundaries kSeconds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                          0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5,
                                                          5,      10};

}  // namespace

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      calls_(prometheus::BuildCounter()
                 .Name("casenode_grpc_calls_total")
                 .Help("gRPC calls this node answered, by server (peer, local), method and status code")
                 .Register(*registry_)),
      call_seconds_(prometheus::BuildHistogram()
                        .Name("casenode_grpc_call_duration_seconds")
                        .Help("Time to answer a gRPC call, by server and method")
                        .Register(*registry_)),
      decisions_(prometheus::BuildCounter()
                     .Name("casenode_policy_decisions_total")
                     .Help("Policy decisions on Peer calls, by effect, rule and reason (RATE_LIMITED: rate-limited)")
                     .Register(*registry_)),
      consents_(prometheus::BuildCounter()
                    .Name("casenode_consent_verifications_total")
                    .Help("Consent receipts verified for Peer calls, by outcome")
                    .Register(*registry_)),
      gauges_(prometheus::BuildGauge()
                  .Name("casenode_state")
                  .Help("The node's state when scraped (see the label what)")
                  .Register(*registry_)),
      peer_seconds_(prometheus::BuildHistogram()
                        .Name("casenode_peer_call_duration_seconds")
                        .Help("Round-trip time of calls this node made to a peer, by peer and status code")
                        .Register(*registry_)),
      peer_reachable_(prometheus::BuildGauge()
                          .Name("casenode_peer_reachable")
                          .Help("0 if this node's last connection attempt to the peer failed, else 1 (peers it has called)")
                          .Register(*registry_)),
      store_bytes_(prometheus::BuildGauge()
                       .Name("casenode_store_size_bytes")
                       .Help("Bytes on disk of the record store (records) and the key store (keys)")
                       .Register(*registry_)),
      signal_checks_(prometheus::BuildCounter()
                         .Name("casenode_signal_checks_total")
                         .Help("Signal checks by this node's staff, by result (complete: every peer answered; incomplete; failed)")
                         .Register(*registry_)),
      quota_alarms_(prometheus::BuildCounter()
                        .Name("casenode_quota_alarms_total")
                        .Help("Quota alarms this node raised, by action and kind (threshold_reached, exhausted)")
                        .Register(*registry_)) {}

void Metrics::QuotaAlarm(std::string_view action, std::string_view kind) {
  quota_alarms_.Add({{"action", std::string(action)}, {"kind", std::string(kind)}}).Increment();
}

void Metrics::SignalCheck(std::string_view result) {
  signal_checks_.Add({{"result", std::string(result)}}).Increment();
}

void Metrics::PeerCall(std::string_view peer, std::string_view code, double seconds) {
  peer_seconds_.Add({{"peer", std::string(peer)}, {"code", std::string(code)}}, kSeconds).Observe(seconds);
}

void Metrics::Call(std::string_view server, std::string_view method, std::string_view code, double seconds) {
  calls_.Add({{"server", std::string(server)}, {"method", std::string(method)}, {"code", std::string(code)}})
      .Increment();
  call_seconds_.Add({{"server", std::string(server)}, {"method", std::string(method)}}, kSeconds).Observe(seconds);
}

void Metrics::Decision(bool allowed, std::string_view rule, std::string_view reason) {
  decisions_
      .Add({{"effect", allowed ? "allow" : "deny"},
            {"rule", rule.empty() ? "none" : std::string(rule)},
            {"reason", std::string(reason)}})
      .Increment();
}

void Metrics::ConsentVerified(std::string_view status) {
  consents_.Add({{"status", std::string(status)}}).Increment();
}

void Metrics::Decided(const policy::Request& request, const policy::Decision& decision) {
  Decision(decision.allowed(), decision.rule_id, ReasonName(decision.reason));
  for (const policy::ConsentFact& fact : request.consents) ConsentVerified(policy::ConsentStatusName(fact.status));
}

std::string Metrics::Scrape(const Snapshot& s) {
  const std::pair<const char*, uint64_t> values[] = {
      {"audit_log_entries", s.audit_log_size},
      {"audit_log_witnessed_entries", s.audit_witnessed_size},
      {"audit_log_cosignatures", s.audit_cosignatures},
      {"audit_witnesses_behind", s.audit_witnesses_behind},
      {"audit_witnesses_refused", s.audit_witnesses_refused},
      {"consent_hold_generation", s.consent_hold_generation},
      {"manifest_version", s.manifest_version},
      {"cases_invited", s.cases_invited},
      {"cases_open", s.cases_open},
      {"cases_closed", s.cases_closed},
      {"cases_destroyed", s.cases_destroyed},
      {"case_orders_pending", s.case_orders_pending},
      {"notices_pending", s.notices_pending},
  };
  for (const auto& [what, value] : values) gauges_.Add({{"what", what}}).Set(static_cast<double>(value));
  for (const auto& [peer, reachable] : s.peers_reachable) peer_reachable_.Add({{"peer", peer}}).Set(reachable ? 1 : 0);
  store_bytes_.Add({{"store", "records"}}).Set(static_cast<double>(s.store_bytes));
  store_bytes_.Add({{"store", "keys"}}).Set(static_cast<double>(s.key_store_bytes));
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

namespace {

// "/casenode.v1.Peer/LookupSignal" -> "Peer.LookupSignal"
std::string MethodLabel(std::string_view path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos || slash == 0) return "unknown";
  std::string_view service = path.substr(1, slash - 1);
  if (const size_t dot = service.rfind('.'); dot != std::string_view::npos) service.remove_prefix(dot + 1);
  return std::string(service) + "." + std::string(path.substr(slash + 1));
}

std::string_view CodeName(grpc::StatusCode code) {
  static constexpr std::string_view kNames[] = {
      "OK",        "CANCELLED",         "UNKNOWN",           "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
      "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL",         "UNAVAILABLE",       "DATA_LOSS",        "UNAUTHENTICATED"};
  const int i = static_cast<int>(code);
  return i >= 0 && i < static_cast<int>(std::size(kNames)) ? kNames[i] : "UNKNOWN";
}

class CallInterceptor : public grpc::experimental::Interceptor {
 public:
  CallInterceptor(Metrics& metrics, const std::string& server, std::string method)
      : metrics_(metrics), server_(server), method_(std::move(method)), started_(std::chrono::steady_clock::now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
      metrics_.Call(server_, method_, CodeName(methods->GetSendStatus().error_code()), seconds);
    }
    methods->Proceed();
  }

 private:
  Metrics& metrics_;
  const std::string& server_;
  const std::string method_;
  const std::chrono::steady_clock::time_point started_;
};

class CallInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  CallInterceptorFactory(Metrics& metrics, std::string server) : metrics_(metrics), server_(std::move(server)) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override {
    return new CallInterceptor(metrics_, server_, MethodLabel(info->method()));
  }

 private:
  Metrics& metrics_;
  const std::string server_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> CallMetrics(Metrics& metrics,
                                                                                    std::string server) {
  return std::make_unique<CallInterceptorFactory>(metrics, std::move(server));
}

struct MetricsServer::Impl {
  httplib::Server server;
  std::thread thread;
};

MetricsServer::MetricsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MetricsServer::~MetricsServer() { Stop(); }

std::unique_ptr<MetricsServer> MetricsServer::Start(const std::string& listen, ScrapeFn scrape, std::string* error) {
  const size_t colon = listen.rfind(':');
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const int port = std::stoi(listen.substr(colon + 1));  // validated by the configuration
  auto impl = std::make_unique<Impl>();
  impl->server.set_payload_max_length(1024);  // GET only
  impl->server.set_read_timeout(5, 0);
  impl->server.set_write_timeout(5, 0);
  impl->server.Get("/metrics", [scrape = std::move(scrape)](const httplib::Request&, httplib::Response& res) {
    res.set_content(scrape(), "text/plain; version=0.0.4; charset=utf-8");
  });
  if (!impl->server.bind_to_port(host, port)) {
    *error = "metrics.listen: cannot listen on " + listen + " (address in use?)";
    return nullptr;
  }
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->server.listen_after_bind(); });
  // stop() is a no-op until the thread runs the server: wait for it, so a
  // stop right after start cannot leave join() waiting forever.
  while (!impl->server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(impl)));
}

void MetricsServer::Stop() {
  if (!impl_) return;
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace casenode::node
