#include "node/node.h"

#include <filesystem>

#include "base/status.h"
#include "base/strings.h"
#include "node/parts.h"

namespace casenode::node {

Node::Parts::Parts(NodeConfig config_in, Prepared p, std::unique_ptr<TlsIdentity> tls_in,
                 std::unique_ptr<store::KeyStore> key_store_in, std::unique_ptr<store::Store> store_in,
                 std::unique_ptr<AuditLog> audit_in, Clock clock)
    : config(std::move(config_in)),
      network(std::move(p.network)),
      tls(std::move(tls_in)),
      signing_key(std::move(p.signing)),
      case_identity(std::move(p.case_identity)),
      oprf_share(std::move(p.oprf_share)),
      key_store(std::move(key_store_in)),
      store(std::move(store_in)),
      audit(std::move(audit_in)),
      known([this, clock] { return edge::Known{gate.policy(), network->manifest(), network->self_org(), clock()}; }),
      consents(*store, *key_store, signing_key, config.org, clock),
      peers(*network, *tls, config.peer_timeout, config.max_message_bytes),
      alarms(*network, *store, std::bind_front(&PeerClient::ReportAlarm, &peers), clock),
      quotas(*store, clock),
      consent_verifier(consents, config.org, std::bind_front(&PeerClient::ConsentStatus, &peers),
                       OwnConsentAnswer(consents, *audit, *key_store, config.org), clock),
      gate(*network, *audit, *key_store, consent_verifier, quotas, std::move(p.policy)),
      witness(*store, signing_key, config.org, clock),
      publisher(*audit, *store, signing_key, config.org, [this] { return network->manifest()->nodes; },
                std::bind_front(&PeerClient::Cosign, &peers), clock),
      deriver(*network, peers),
      signals(*store, *key_store, clock),
      notifier(*network, peers, signals, clock),
      signal_desk(*network, peers, deriver, signals, notifier, [this] { return gate.policy(); }, clock),
      cases(*store, clock),
      case_keeper(*network, peers, cases, *audit, *key_store, clock),
      case_host(*network, gate, cases, *audit, *key_store, case_identity, clock, [this] { case_keeper.Kick(); }),
      case_desk(*network, peers, deriver, gate, cases, *audit, *key_store, case_keeper, clock),
      consent_host(*network, gate, consents, *audit, *key_store),
      pseudonym_host(gate, oprf_share ? &*oprf_share : nullptr),
      signal_host(*network, gate, signals, clock),
      audit_host(*network, gate, *audit, *key_store, witness, publisher, alarms),
      peer_service(*network, gate, {consent_host, pseudonym_host, signal_host, audit_host, case_host}),
      node_service(*network, peers, *store, gate, [this] { return Reload(); },
                   [this] { return LocalAuditStatus(publisher, witness, consents); },
                   std::bind_front(&CheckpointPublisher::DeclareGap, &publisher, std::ref(*audit)), known),
      keys_service(*key_store, *audit),
      policy_service(*network, gate, config.policy_local),
      consent_service(*network, gate, consents, consent_verifier, *audit, *key_store, known),
      pseudonym_service(deriver, known),
      signal_service(signal_desk, signals, metrics, known),
      case_service(case_desk, known),
      audit_service(*network, peers, deriver, *key_store, *store, *audit, alarms, [this] { return gate.policy(); },
                    clock, known) {
  gate.SetDecisionObserver(std::bind_front(&Metrics::Decided, &metrics));
  gate.SetAlarmObserver([this](v1::QuotaAlarm alarm) {
    metrics.QuotaAlarm(alarm.action(), alarm.kind() == v1::QuotaAlarm::EXHAUSTED ? "exhausted" : "threshold_reached");
    alarms.Raise(std::move(alarm));
  });
  // The caller's side of every Peer call this node makes, for
  // reconciliation. Buffered: it concerns the call, not a child (the
  // callee's decision, which may, is synced there).
  peers.SetObserver([this](std::string_view method, const std::string& peer_org, std::string_view traceparent,
                           std::chrono::system_clock::time_point started, std::chrono::steady_clock::duration took,
                           const absl::Status& outcome) {
    metrics.PeerCall(peer_org, absl::StatusCodeToString(outcome.code()), std::chrono::duration<double>(took).count());
    (void)audit->Append(
        CallSentEntry(method, peer_org, TraceIdOf(traceparent), SpanIdOf(traceparent), started, outcome.code()),
        store::Durability::kBuffered);
  });
}

Node::Node(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}
Node::~Node() { Shutdown(std::chrono::milliseconds(0)); }

const network::Network& Node::network() const { return *parts_->network; }

absl::StatusOr<uint64_t> Node::Check(const NodeConfig& config, Clock clock) {
  ASSIGN_OR_RETURN(Prepared p, Prepare(config, clock));
  const uint64_t version = p.network->manifest()->version;
  auto key_store = store::KeyStore::OpenReadOnly(config.data_dir + "/keys", std::move(p.master));
  if (key_store.status().code() == absl::StatusCode::kNotFound) return version;  // made at the first start
  if (!key_store.ok()) return Annotate("node.data_dir (key store)", key_store.status());
  RETURN_IF_ERROR(Annotate("network.manifest", p.network->SetVersionFloor(ManifestVersionFloor(**key_store))));
  return version;
}

absl::StatusOr<std::unique_ptr<Node>> Node::Create(const NodeConfig& config, Clock clock) {
  ASSIGN_OR_RETURN(Prepared p, Prepare(config, clock));
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) return absl::UnavailableError(StrCat("node.data_dir: cannot create ", config.data_dir, ": ", ec.message()));
  auto key_store = store::KeyStore::Open(config.data_dir + "/keys", std::move(p.master));
  if (!key_store.ok()) return Annotate("node.data_dir (key store)", key_store.status());
  RETURN_IF_ERROR(Annotate("network.manifest", p.network->SetVersionFloor(ManifestVersionFloor(**key_store))));
  auto store = store::Store::Open(config.data_dir + "/records", **key_store, clock);
  if (!store.ok()) return Annotate("node.data_dir (record store)", store.status());
  auto audit = AuditLog::Open(**store);
  if (!audit.ok()) return Annotate("node.data_dir (audit log)", audit.status());
  // The policy in force from here on, before anything is decided under it.
  RETURN_IF_ERROR(Annotate("node.data_dir (audit log)", (*audit)->Append(PolicyLoadEntry(std::move(p.policy_load)),
                                                                       store::Durability::kSynced)));
  auto tls = TlsIdentity::Create(p.tls);
  if (!tls.ok()) return Annotate("keys.tls_cert", tls.status());
  return std::unique_ptr<Node>(new Node(std::make_unique<Parts>(config, std::move(p), *std::move(tls),
                                                                *std::move(key_store), *std::move(store),
                                                                *std::move(audit), clock)));
}

}  // namespace casenode::node
