#include "node/node.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "base/file.h"
#include "base/reason.h"
#include "base/status.h"
#include "base/strings.h"
#include "keys/identity.h"
#include "keys/oprf_share.h"
#include "keys/master_key.h"
#include "keys/network_operator.h"
#include "keys/x509.h"
#include "node/consent/status_answer.h"
#include "node/vocabulary/vocabulary.h"
#include "base/log.h"

namespace casenode::node {
namespace {

constexpr std::string_view kManifestVersionCounter = "manifest-version";

v1::AuditEntry PolicyLoadEntry(v1::PolicyLoad load) {
  v1::AuditEntry entry;
  *entry.mutable_policy_load() = std::move(load);
  return entry;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const policy::Policy>> LoadPolicy(const NodeConfig& config,
                                                                 const std::string& manifest_policy_hash,
                                                                 v1::PolicyLoad* record) {
  // One read and one compile: the network part checked against the manifest
  // is the one put in force, so a file swapped mid-load cannot slip in
  // unsigned rules.
  auto network = policy::Policy::ReadNetworkSources(config.policy_network);
  if (!network.ok()) return Annotate("policy.network", network.status());
  auto local = policy::Policy::ReadFiles(config.policy_local);
  if (!local.ok()) return Annotate("policy.local", local.status());
  // Errors of the network files name policy.network, those of the local ones policy.local.
  if (auto network_only = policy::Policy::FromSources(*network); !network_only.ok()) {
    return Annotate("policy.network", network_only.status());
  }
  auto loaded = policy::Policy::FromSources(*network, *local);
  if (!loaded.ok()) return Annotate("policy.local", loaded.status());
  // The names the code relies on, before anything is decided under it.
  if (absl::Status lacks = vocab::CheckVocabulary(**loaded); !lacks.ok()) return Annotate("policy.network", lacks);
  if ((*loaded)->network_hash() != manifest_policy_hash) {
    return Error(Reason::kPolicyNotInManifest,
                 StrCat("policy.network: the policy's hash ", (*loaded)->network_hash(),
                        " is not the one the manifest lists (", manifest_policy_hash.empty() ? "none" : manifest_policy_hash,
                        "); the network policy must be the operator's signed version"));
  }
  if (record != nullptr) {
    record->Clear();
    record->set_policy_hash((*loaded)->hash());
    record->set_network_policy_hash((*loaded)->network_hash());
    for (const auto& src : *network) {
      auto* out = record->add_network_sources();
      out->set_name(src.name);
      out->set_text(src.text);
    }
    for (const auto& src : *local) {
      auto* out = record->add_local_sources();
      out->set_name(src.name);
      out->set_text(src.text);
    }
  }
  return loaded;
}

// Everything a node needs before it opens its stores: the verified network,
// the policy, and its identity checked against the manifest.
struct Node::Prepared {
  std::unique_ptr<Network> network;
  std::shared_ptr<const policy::Policy> policy;
  v1::PolicyLoad policy_load;  // for the audit log, written at Start
  TlsMaterial tls;
  keys::SigningKey signing;
  CaseIdentity case_identity;  // opens the invitations sealed to this node
  keys::MasterKey master;
  std::optional<oprf::KeyShare> oprf_share;
};

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

// The node's share of the pseudonym key, if the manifest names it a holder:
// opened with its identity and checked against its commitment there.
absl::StatusOr<std::optional<oprf::KeyShare>> LoadOprfShare(const NodeConfig& config, const keys::Manifest& manifest,
                                                            const keys::NodeIdentity& identity) {
  if (manifest.FindOprfHolder(config.org) == nullptr) return std::nullopt;
  if (config.oprf_share.empty()) {
    return Error(Reason::kOprfShareInvalid,
                 StrCat("keys.oprf_share: the manifest names \"", config.org,
                        "\" a pseudonym key holder; give the file with its share"));
  }
  auto sealed = ReadFile(config.oprf_share);
  if (!sealed.ok()) return Annotate("keys.oprf_share", sealed.status());
  auto share = keys::OpenOprfShare(AsBytes(*sealed), identity, manifest, config.org);
  if (!share.ok()) return Annotate("keys.oprf_share", share.status());
  return std::optional<oprf::KeyShare>(*std::move(share));
}

}  // namespace

absl::StatusOr<Node::Prepared> Node::Prepare(const NodeConfig& config, Clock clock) {
  auto operator_key = keys::ReadPublicKeyFile(config.operator_key);
  if (!operator_key.ok()) return Annotate("network.operator_key", operator_key.status());
  auto network = Network::Load(config.manifest, *operator_key, config.org, clock);
  if (!network.ok()) return Annotate("network.manifest", network.status());
  v1::PolicyLoad policy_load;
  auto policy = LoadPolicy(config, (*network)->manifest()->policy_hash, &policy_load);
  if (!policy.ok()) return policy.status();
  auto ca = ReadFile(config.ca_cert);
  if (!ca.ok()) return Annotate("network.ca_cert", ca.status());
  auto cert = ReadFile(config.tls_cert);
  if (!cert.ok()) return Annotate("keys.tls_cert", cert.status());
  auto sealed = ReadFile(config.identity);
  if (!sealed.ok()) return Annotate("keys.identity", sealed.status());

  auto master = keys::MasterKey::Unlock(config.master_key, AsBytes(*sealed));
  if (!master.ok()) return Annotate("keys.master_key", master.status());
  auto plain = master->Open(keys::kNodeIdentityPurpose, AsBytes(*sealed));
  if (!plain.ok()) return Annotate("keys.identity", plain.status());
  auto identity = keys::NodeIdentity::Parse(plain->span());
  if (!identity.ok()) return Annotate("keys.identity", identity.status());

  const keys::ManifestNode self = (*network)->self();
  auto fp = keys::CertificateFingerprint(*cert);
  if (!fp.ok()) return Annotate("keys.tls_cert", fp.status());
  if (!self.HasCertificate(*fp)) {
    return absl::FailedPreconditionError(
        StrCat("keys.tls_cert: certificate is not one the manifest lists for \"", config.org, "\""));
  }
  if (auto match = keys::CertificateMatchesKey(*cert, identity->tls_key_pem); !match.ok()) {
    return Annotate("keys.tls_cert", match);
  }
  if (identity->signing.public_key() != self.signing_key || identity->encryption_public != self.encryption_key) {
    return absl::FailedPreconditionError(
        StrCat("keys.identity: keys do not match the manifest entry for \"", config.org, "\""));
  }
  auto share = LoadOprfShare(config, *(*network)->manifest(), *identity);
  if (!share.ok()) return share.status();
  return Prepared{*std::move(network),
                  *std::move(policy),
                  std::move(policy_load),
                  TlsMaterial{*std::move(ca), *std::move(cert), std::move(identity->tls_key_pem)},
                  std::move(identity->signing),
                  CaseIdentity{std::move(identity->encryption_secret), identity->encryption_public},
                  *std::move(master),
                  *std::move(share)};
}

namespace {

Network::VersionFloor FloorIn(keys::KeyStore* ks) {
  return {[ks] { return ks->GetCounter(kManifestVersionCounter); },
          [ks](uint64_t v) { return ks->RaiseCounter(kManifestVersionCounter, v); }};
}

}  // namespace

absl::StatusOr<uint64_t> Node::Check(const NodeConfig& config, Clock clock) {
  ASSIGN_OR_RETURN(Prepared p, Prepare(config, clock));
  const uint64_t version = p.network->manifest()->version;
  auto key_store = keys::KeyStore::OpenReadOnly(config.data_dir + "/keys", std::move(p.master));
  if (key_store.status().code() == absl::StatusCode::kNotFound) return version;  // made at the first start
  if (!key_store.ok()) return Annotate("node.data_dir (key store)", key_store.status());
  RETURN_IF_ERROR(Annotate("network.manifest", p.network->SetVersionFloor(FloorIn(key_store->get()))));
  return version;
}

absl::StatusOr<std::unique_ptr<Node>> Node::Create(const NodeConfig& config, Clock clock) {
  ASSIGN_OR_RETURN(Prepared p, Prepare(config, clock));
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) return absl::UnavailableError(StrCat("node.data_dir: cannot create ", config.data_dir, ": ", ec.message()));
  auto key_store = keys::KeyStore::Open(config.data_dir + "/keys", std::move(p.master));
  if (!key_store.ok()) return Annotate("node.data_dir (key store)", key_store.status());
  RETURN_IF_ERROR(Annotate("network.manifest", p.network->SetVersionFloor(FloorIn(key_store->get()))));
  auto store = store::Store::Open(config.data_dir + "/records", **key_store, clock);
  if (!store.ok()) return Annotate("node.data_dir (record store)", store.status());
  auto audit = AuditLog::Open(**store);
  if (!audit.ok()) return Annotate("node.data_dir (audit log)", audit.status());
  // The policy in force from here on, before anything is decided under it.
  RETURN_IF_ERROR(Annotate("node.data_dir (audit log)", (*audit)->Append(PolicyLoadEntry(std::move(p.policy_load)),
                                                                       store::Durability::kSynced)));
  auto tls = TlsIdentity::Create(p.tls);
  if (!tls.ok()) return Annotate("keys.tls_cert", tls.status());
  return std::unique_ptr<Node>(new Node(config, std::move(p.network), *std::move(tls), std::move(p.signing),
                                        std::move(p.case_identity), std::move(p.oprf_share), *std::move(key_store), *std::move(store),
                                        *std::move(audit), std::move(p.policy), clock));
}

Node::Node(NodeConfig config, std::unique_ptr<Network> network, std::unique_ptr<TlsIdentity> tls, keys::SigningKey signing_key,
           CaseIdentity case_identity, std::optional<oprf::KeyShare> oprf_share, std::unique_ptr<keys::KeyStore> key_store,
           std::unique_ptr<store::Store> store, std::unique_ptr<AuditLog> audit,
           std::shared_ptr<const policy::Policy> policy, Clock clock)
    : config_(std::move(config)),
      network_(std::move(network)),
      tls_(std::move(tls)),
      signing_key_(std::move(signing_key)),
      case_identity_(std::move(case_identity)),
      oprf_share_(std::move(oprf_share)),
      key_store_(std::move(key_store)),
      store_(std::move(store)),
      audit_(std::move(audit)),
      consents_(*store_, *key_store_, signing_key_, config_.org, clock),
      peers_(*network_, *tls_, config_.peer_timeout, config_.max_message_bytes),
      consent_verifier_(
          consents_, config_.org,
          [this](const keys::ManifestNode& issuer, const std::string& id,
                 consent::Deadline deadline) -> absl::StatusOr<v1::ConsentCheck> {
            std::string traceparent;
            ASSIGN_OR_RETURN(v1::ConsentStatusResponse::State state,
                             peers_.ConsentStatus(issuer, id, deadline, &traceparent));
            v1::ConsentCheck answer;
            answer.set_receipt_id(id);
            answer.set_issuer_org(issuer.org);
            answer.set_state(std::string(consent::StateName(state)));
            answer.set_trace_id(TraceIdOf(traceparent));
            answer.set_span_id(SpanIdOf(traceparent));
            return answer;
          },
          [this](const std::string& id, const std::string& trace_id, const std::string& span_id) {
            return AnswerConsentStatus(consents_, *audit_, *key_store_, config_.org, config_.org, id, trace_id,
                                       span_id);
          },
          clock),
      gate_(*network_, *audit_, *key_store_, consent_verifier_, std::move(policy)),
      witness_(*store_, signing_key_, config_.org, clock),
      publisher_(
          *audit_, *store_, signing_key_, config_.org, [this] { return network_->manifest()->nodes; },
          [this](const keys::ManifestNode& w, const v1::CosignRequest& req, CheckpointPublisher::Deadline deadline) {
            return peers_.Cosign(w, req, deadline);
          },
          clock),
      deriver_(*network_, peers_),
      signals_(*store_, *key_store_, clock),
      notifier_(*network_, peers_, signals_, clock),
      signal_desk_(*network_, peers_, deriver_, signals_, notifier_, [this] { return gate_.policy(); }, clock),
      cases_(*store_, clock),
      case_keeper_(*network_, peers_, cases_, *audit_, *key_store_, clock),
      case_host_(*network_, gate_, cases_, *audit_, *key_store_, case_identity_, clock, [this] { case_keeper_.Kick(); }),
      case_desk_(*network_, peers_, deriver_, gate_, cases_, *audit_, *key_store_, case_keeper_, clock),
      consent_host_(*network_, gate_, consents_, *audit_, *key_store_),
      pseudonym_host_(gate_, oprf_share_ ? &*oprf_share_ : nullptr),
      signal_host_(*network_, gate_, signals_, clock),
      audit_host_(*network_, gate_, *audit_, *key_store_, witness_, publisher_),
      peer_service_(*network_, gate_, {consent_host_, pseudonym_host_, signal_host_, audit_host_, case_host_}),
      node_service_(*network_, peers_, *store_, gate_, [this] { return Reload(); },
                    [this] {
                      v1::AuditStatus s = publisher_.Status();
                      for (auto& v : witness_.Refused()) *s.add_refused() = std::move(v);
                      *s.mutable_consent_hold() = consents_.hold();
                      return s;
                    },
                    [this](const std::string& declared_by) -> absl::StatusOr<uint64_t> {
                      absl::StatusOr<uint64_t> seq = publisher_.DeclareGap(*audit_, declared_by);
                      // The witnesses learn of it at once.
                      if (seq.ok()) (void)publisher_.PublishNow(std::chrono::system_clock::now() + std::chrono::seconds(5));
                      return seq;
                    },
                    [this, clock] { return KnownNow(clock()); }),
      keys_service_(*key_store_, *audit_),
      policy_service_(*network_, gate_, config_.policy_local),
      consent_service_(*network_, gate_, consents_, consent_verifier_, *audit_, *key_store_, [this, clock] { return KnownNow(clock()); }),
      pseudonym_service_(deriver_, [this, clock] { return KnownNow(clock()); }),
      signal_service_(signal_desk_, signals_, metrics_, [this, clock] { return KnownNow(clock()); }),
      case_service_(case_desk_, [this, clock] { return KnownNow(clock()); }),
      audit_service_(*network_, peers_, deriver_, *key_store_, *store_, *audit_, [this] { return gate_.policy(); },
                     clock, [this, clock] { return KnownNow(clock()); }) {
  gate_.SetDecisionObserver([this](const policy::Request& request, const policy::Decision& decision) {
    metrics_.Decision(decision.allowed(), decision.rule_id, ReasonName(decision.reason));
    for (const policy::ConsentFact& fact : request.consents) {
      metrics_.ConsentVerified(policy::ConsentStatusName(fact.status));
    }
  });
  // The caller's side of every Peer call this node makes, for reconciliation.
  // Buffered: it concerns the call, not a child (the callee's decision, which
  // may, is synced there).
  peers_.SetObserver([this](std::string_view method, const std::string& peer_org, std::string_view traceparent,
                            std::chrono::system_clock::time_point started, std::chrono::steady_clock::duration took,
                            const absl::Status& outcome) {
    v1::AuditEntry e;
    // The time the call started: its callee decided after it.
    e.set_time_unix_ms(std::chrono::duration_cast<std::chrono::milliseconds>(started.time_since_epoch()).count());
    e.set_trace_id(TraceIdOf(traceparent));
    e.set_span_id(SpanIdOf(traceparent));
    v1::PeerCallSent* sent = e.mutable_call_sent();
    sent->set_method(std::string(method));
    sent->set_peer_org(peer_org);
    sent->set_outcome(absl::StatusCodeToString(outcome.code()));
    metrics_.PeerCall(peer_org, sent->outcome(), std::chrono::duration<double>(took).count());
    (void)audit_->Append(std::move(e), store::Durability::kBuffered);
  });
}

Node::~Node() { Shutdown(std::chrono::milliseconds(0)); }

void ApplyServerOptions(grpc::ServerBuilder& builder) {
  // The sync server starts a thread per busy poller and ends it when idle;
  // with the default limit of 2 pollers, handlers that wait briefly (for a
  // decision write) make it churn threads. Keep up to 16 around.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 2);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 16);
}

absl::Status Node::Start() {
  // From here on this manifest is accepted: no older one may come back.
  RETURN_IF_ERROR(Annotate("network.manifest", network_->CommitVersion()));
  // A restore never revives a revocation (consent_book.h).
  RETURN_IF_ERROR(Annotate("node.data_dir (consent hold)", consents_.LoadHold([this](const v1::ConsentHold& hold) {
    v1::AuditEntry e;
    v1::ConsentEvent& c = *e.mutable_consent();
    c.set_kind(v1::ConsentEvent::HELD);
    c.set_issuer_org(config_.org);
    c.set_hold_generation(hold.generation());
    Log(LogLevel::kWarn, "consent.held",
        {{"hold_generation", hold.generation()}, {"lost_revocations", hold.lost_revocations()}});
    return audit_->Append(std::move(e), store::Durability::kSynced);
  })));
  grpc::EnableDefaultHealthCheckService(true);

  grpc::ServerBuilder peer_builder;
  int peer_port = 0;
  peer_builder.AddListeningPort(config_.peer_listen, PeerServerCredentials(*tls_), &peer_port);
  peer_builder.SetMaxReceiveMessageSize(config_.max_message_bytes);
  peer_builder.SetMaxSendMessageSize(config_.max_message_bytes);
  ApplyServerOptions(peer_builder);
  peer_builder.RegisterService(&peer_service_);
  {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
    interceptors.push_back(CallMetrics(metrics_, "peer"));
    peer_builder.experimental().SetInterceptorCreators(std::move(interceptors));
  }
  peer_server_ = peer_builder.BuildAndStart();
  if (!peer_server_ || peer_port == 0) {
    return absl::UnavailableError(StrCat("peer.listen: cannot listen on ", config_.peer_listen,
                                         " (address in use or not local?)"));
  }

  // A stale socket from a crashed run would make bind fail; nothing else may own this path.
  std::error_code ec;
  std::filesystem::remove(config_.local_socket, ec);
  grpc::ServerBuilder local_builder;
  int local_port = 0;
  local_builder.AddListeningPort("unix:" + config_.local_socket, grpc::InsecureServerCredentials(), &local_port);
  ApplyServerOptions(local_builder);
  {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
    interceptors.push_back(CallMetrics(metrics_, "local"));
    local_builder.experimental().SetInterceptorCreators(std::move(interceptors));
  }
  for (grpc::Service* service : std::initializer_list<grpc::Service*>{
           &node_service_, &keys_service_, &policy_service_, &consent_service_, &pseudonym_service_,
           &signal_service_, &case_service_, &audit_service_}) {
    local_builder.RegisterService(service);
  }
  local_server_ = local_builder.BuildAndStart();
  if (!local_server_ || local_port == 0) {
    return absl::UnavailableError(StrCat("local.socket: cannot listen on ", config_.local_socket));
  }
  if (::chmod(config_.local_socket.c_str(), 0600) != 0) {
    return absl::UnavailableError(StrCat("local.socket: cannot set mode 0600 on ", config_.local_socket));
  }
  if (!config_.metrics_listen.empty()) {
    std::string error;
    metrics_server_ = MetricsServer::Start(config_.metrics_listen, [this] { return ScrapeMetrics(); }, &error);
    if (!metrics_server_) return absl::UnavailableError(error);
  }
  notifier_.Start();  // notices left in the outbox by an earlier run go out now
  case_keeper_.Start();  // so do case orders, and destruction that came due while down
  publisher_.Start();  // the witnesses learn this log's size, and this node whether it is behind
  Log(LogLevel::kInfo, "node.ready",
      {{"org", config_.org}, {"peer_listen", config_.peer_listen}, {"local_socket", config_.local_socket},
       {"manifest_version", network_->manifest()->version}, {"policy_hash", gate_.policy()->hash()}});
  return absl::OkStatus();
}

std::string Node::ScrapeMetrics() {
  const v1::AuditStatus audit = publisher_.Status();
  Metrics::Snapshot s;
  s.audit_log_size = audit.tree_size();
  s.audit_witnessed_size = audit.witnessed_size();
  s.audit_cosignatures = static_cast<uint64_t>(audit.cosignatures());
  s.audit_witnesses_behind = static_cast<uint64_t>(audit.behind_size());
  s.audit_witnesses_refused = witness_.Refused().size();
  s.consent_hold_generation = consents_.hold().generation();
  s.manifest_version = network_->manifest()->version;
  if (auto cases = cases_.List(); cases.ok()) {
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
  if (auto orders = cases_.Orders(); orders.ok()) s.case_orders_pending = orders->size();
  if (auto outbox = signals_.Outbox(); outbox.ok()) s.notices_pending = outbox->size();
  s.store_bytes = DirectoryBytes(config_.data_dir + "/records");
  s.key_store_bytes = DirectoryBytes(config_.data_dir + "/keys");
  s.peers_reachable = peers_.Reachable();
  return metrics_.Scrape(s);
}

absl::Status Node::Healthy() const {
  if (!peer_server_ || !local_server_) return absl::UnavailableError("not serving");
  return audit_->Probe();
}

void Node::Shutdown(std::chrono::milliseconds grace) {
  const auto deadline = std::chrono::system_clock::now() + grace;
  if (metrics_server_) metrics_server_->Stop();
  notifier_.Stop();  // what it has not delivered stays in the outbox for the next start
  case_keeper_.Stop();
  publisher_.Stop();
  for (grpc::Server* server : {peer_server_.get(), local_server_.get()}) {
    if (server == nullptr) continue;
    if (auto* health = server->GetHealthCheckService()) health->SetServingStatus(false);
  }
  // Shutdown(deadline) stops accepting at once and lets in-flight calls run
  // until the deadline. Both servers drain concurrently: a Local call may be
  // waiting on a peer.
  std::thread local_stop([&] {
    if (local_server_) local_server_->Shutdown(deadline);
  });
  if (peer_server_) peer_server_->Shutdown(deadline);
  local_stop.join();
  if (peer_server_ || local_server_) Log(LogLevel::kInfo, "node.stopped", {{"org", config_.org}});
  peer_server_.reset();
  local_server_.reset();
}

absl::Status RestoreRecords(const NodeConfig& config, const std::string& backup_dir) {
  namespace fs = std::filesystem;
  const std::string target = config.data_dir + "/records";
  if (!fs::exists(backup_dir + "/CURRENT")) {
    return absl::InvalidArgumentError(StrCat("--restore: ", backup_dir, " is not a backup made by casectl node backup"));
  }
  if (fs::exists(target)) {
    return absl::FailedPreconditionError(
        StrCat("--restore: ", target, " exists; stop the node and move it aside before restoring"));
  }
  std::error_code ec;
  fs::create_directories(config.data_dir, ec);
  const std::string partial = target + ".restoring";
  fs::remove_all(partial, ec);
  fs::copy(backup_dir, partial, fs::copy_options::recursive, ec);
  if (ec) return absl::UnavailableError(StrCat("--restore: cannot copy ", backup_dir, ": ", ec.message()));
  fs::rename(partial, target, ec);  // the store appears whole or not at all
  if (ec) return absl::UnavailableError(StrCat("--restore: cannot move the copy into ", target, ": ", ec.message()));
  return absl::OkStatus();
}

absl::StatusOr<std::string> Node::CertificateToPresent(const keys::Manifest& manifest) const {
  const keys::ManifestNode* self = manifest.FindOrg(config_.org);
  if (self == nullptr) return absl::FailedPreconditionError(StrCat("network.manifest: it does not list \"", config_.org, "\""));
  // The certificate file, if it is the one the manifest says this node
  // presents: how a renewal's second step reaches a running node
  // (provision/network_setup.h). Never a certificate the manifest lists only
  // as also accepted: peers still on the previous manifest may not know it.
  auto file = ReadFile(config_.tls_cert);
  auto file_fp = file.ok() ? keys::CertificateFingerprint(*file) : file.status();
  if (file_fp.ok() && *file_fp == self->tls_cert_sha256 && tls_->CheckCertificate(*file).ok()) {
    return *std::move(file);
  }
  // Else the one presented now, as long as the manifest lists it (the file
  // is early, late or unreadable): the node keeps working and says so.
  std::string presented = tls_->cert_pem();
  ASSIGN_OR_RETURN(std::string presented_fp, keys::CertificateFingerprint(presented));
  if (self->HasCertificate(presented_fp)) {
    if (!file_fp.ok() || *file_fp != presented_fp) {
      Log(LogLevel::kWarn, "tls.certificate_file_not_used",
          {{"why", file_fp.ok() ? std::string("not the certificate the manifest says this node presents")
                                : std::string(file_fp.status().message())},
           {"kept_tls_cert_sha256", presented_fp}});
    }
    return presented;
  }
  return absl::FailedPreconditionError(
      StrCat("keys.tls_cert: the manifest lists neither the certificate file as the one \"", config_.org,
             "\" presents nor the certificate in use"));
}

edge::Known Node::KnownNow(SystemTime now) const { return {gate_.policy(), network_->manifest(), network_->self_org(), now}; }

absl::StatusOr<uint64_t> Node::Reload() {
  // One reload at a time, so a manifest is never put in force with another
  // reload's policy.
  std::lock_guard<std::mutex> reloading(reload_mu_);
  // Read and check both the manifest and the policy before installing either,
  // so a bad policy leaves the old manifest and policy in force together.
  auto version = [&]() -> absl::StatusOr<uint64_t> {
    auto manifest = network_->ReadVerified();
    if (!manifest.ok()) return Annotate("network.manifest", manifest.status());
    v1::PolicyLoad policy_load;
    auto policy = LoadPolicy(config_, manifest->policy_hash, &policy_load);
    if (!policy.ok()) return policy.status();
    // A holder's share must still be the one the new manifest commits to.
    const keys::OprfHolder* holder = manifest->FindOprfHolder(config_.org);
    if ((holder != nullptr) != oprf_share_.has_value() ||
        (holder != nullptr && (holder->index != oprf_share_->index ||
                               holder->commitment != oprf_share_->key.public_key()))) {
      return Error(Reason::kOprfShareInvalid,
                   "network.manifest: it changes this node's pseudonym key share; restart with the new share");
    }
    // A changed policy is logged before it decides anything; if it cannot
    // be logged, it is not put in force.
    if ((*policy)->hash() != gate_.policy()->hash()) {
      RETURN_IF_ERROR(audit_->Append(PolicyLoadEntry(std::move(policy_load)), store::Durability::kSynced));
    }
    ASSIGN_OR_RETURN(std::string cert, CertificateToPresent(*manifest));
    ASSIGN_OR_RETURN(uint64_t v, network_->Install(*std::move(manifest)));
    gate_.SetPolicy(*std::move(policy));
    if (cert != tls_->cert_pem()) {
      // The manifest in force lists both; a failed swap keeps the old one.
      auto fp = keys::CertificateFingerprint(cert);
      if (absl::Status swapped = tls_->SetCertificate(cert); !swapped.ok()) {
        Log(LogLevel::kError, "tls.certificate_change_failed",
            {{"error", std::string(swapped.message())}, {"tls_cert_sha256", fp.ok() ? *fp : std::string()}});
      } else {
        // New connections, this node's own included, present the new one.
        peers_.Reconnect();
        Log(LogLevel::kInfo, "tls.certificate_changed", {{"tls_cert_sha256", fp.ok() ? *fp : std::string()}});
      }
    }
    return v;
  }();
  if (version.ok()) {
    Log(LogLevel::kInfo, "manifest.reloaded",
        {{"manifest_version", *version}, {"policy_hash", gate_.policy()->hash()}});
  } else {
    // Whatever failed (a malformed file, an older manifest), the node is fine:
    // it keeps what it had. The caller's request was not at fault.
    const Reason why = ReasonOf(version.status());
    version = WithReason(Annotate("reload refused, the manifest and policy in force are unchanged",
                                  absl::FailedPreconditionError(version.status().message())),
                         why == Reason::kNone ? Reason::kReloadRefused : why);
    Log(LogLevel::kError, "manifest.reload_failed",
        {{"error", std::string_view(version.status().message().data(), version.status().message().size())},
         {"kept_version", network_->manifest()->version}});
  }
  return version;
}

}  // namespace casenode::node
