#include "node/audit/witness.h"

#include "node/audit/keyspace.h"
#include "base/encoding.h"
#include "base/log.h"
#include "base/reason.h"
#include "base/status.h"
#include "base/strings.h"
#include "tlog/note.h"

namespace casenode::node {
namespace {


constexpr auto kPublishInterval = std::chrono::seconds(30);
constexpr auto kOfferTimeout = std::chrono::seconds(5);


int64_t UnixMs(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

std::string WitnessName(std::string_view org) { return StrCat("casenode.witness/", std::string(org)); }

size_t RequiredWitnesses(uint64_t policy_witnesses, size_t other_nodes) {
  return static_cast<size_t>(std::min<uint64_t>(policy_witnesses, other_nodes));
}

absl::StatusOr<v1::CosignResponse> Witness::Cosign(const network::ManifestNode& caller, const v1::CosignRequest& req) {
  // The offer: a checkpoint of the caller's own log, signed with its key.
  absl::StatusOr<tlog::Note> note = tlog::ParseNote(req.note());
  if (!note.ok()) return Error(Reason::kMalformedRequest, StrCat("note: ", std::string(note.status().message())));
  absl::StatusOr<tlog::Checkpoint> cp = tlog::ParseCheckpointBody(note->text);
  if (!cp.ok()) return Error(Reason::kMalformedRequest, StrCat("note: ", std::string(cp.status().message())));
  if (cp->origin != LogOrigin(caller.org) || !tlog::VerifyNoteSignature(*note, cp->origin, caller.signing_key)) {
    return Error(Reason::kMalformedRequest, "note: not a checkpoint of the caller's log signed with its key");
  }
  if (req.consistency_proof_size() > 64) return Error(Reason::kMalformedRequest, "consistency_proof: too long");
  std::vector<tlog::Hash> proof;
  for (const std::string& h : req.consistency_proof()) {
    if (h.size() != 32) return Error(Reason::kMalformedRequest, "consistency_proof: hashes of 32 bytes");
    proof.emplace_back();
    std::copy(h.begin(), h.end(), proof.back().begin());
  }

  std::lock_guard<std::mutex> lock(mu_);
  // What this witness holds: the node's own signed note, so that a refused
  // offer and it together prove a fork to anyone with the manifest.
  std::optional<tlog::Checkpoint> held;
  std::string held_note;
  absl::StatusOr<std::string> stored = store_.Get(store::Family::kAudit, audit_keys::Held(caller.org));
  if (stored.ok()) {
    held_note = *stored;
    auto parsed_note = tlog::ParseNote(held_note);
    auto parsed = parsed_note.ok() ? tlog::ParseCheckpointBody(parsed_note->text)
                                   : absl::StatusOr<tlog::Checkpoint>(parsed_note.status());
    if (!parsed.ok()) return WithReason(parsed.status(), Reason::kRecordCorrupt);
    held = *parsed;
  } else if (stored.status().code() != absl::StatusCode::kNotFound) {
    return stored.status();
  }
  const uint64_t held_size = held ? held->size : 0;
  v1::CosignResponse resp;
  resp.set_known_size(held_size);
  resp.set_held_note(held_note);
  // A declared gap that names exactly the checkpoint this witness holds: the
  // node's new history, admitted in its own log, replaces the one this
  // witness saw. The evidence of the fork is kept all the same.
  const bool gap_accepted = held && !req.gap_leaf().empty() && GapNames(req, *cp, *held);
  if (gap_accepted) {
    Log(LogLevel::kWarn, "audit.witness_gap_accepted",
        {{"org", caller.org}, {"held_size", held_size}, {"offered_size", cp->size}, {"gap_seq", req.gap_seq()}});
    RETURN_IF_ERROR(KeepEvidence(caller.org, held_note, req.note()));
  } else {
    // A signed checkpoint smaller than one cosigned before is a rollback,
    // whatever size the caller thinks this witness holds: the evidence is kept.
    const bool rolled_back = held && cp->size < held->size;
    if (rolled_back) RETURN_IF_ERROR(Refuse(caller.org, held_note, req.note(), held_size, cp->size));
    if (req.old_size() != held_size) {
      resp.set_result(v1::CosignResponse::OLD_SIZE_MISMATCH);
      return resp;
    }
    if (rolled_back || (held && !tlog::VerifyConsistency(held->size, cp->size, held->root, cp->root, proof))) {
      if (!rolled_back) RETURN_IF_ERROR(Refuse(caller.org, held_note, req.note(), held_size, cp->size));
      resp.set_result(v1::CosignResponse::REFUSED);
      return resp;
    }
  }
  // Keep first, then cosign: a cosignature never leaves for a checkpoint this
  // witness could forget. (The same checkpoint again needs no write.)
  if (gap_accepted || !held || held->size != cp->size) {
    RETURN_IF_ERROR(store_.Put(AuditRecord(audit_keys::Held(caller.org), req.note())));
  }
  const uint64_t t = static_cast<uint64_t>(UnixMs(clock_()) / 1000);
  const keys::Signature sig = key_.SignNote(tlog::CosignedMessage(note->text, t));
  std::string sig_bytes;
  AppendU64(sig_bytes, t);
  sig_bytes.append(reinterpret_cast<const char*>(sig.data()), sig.size());
  const std::string name = WitnessName(self_org_);
  resp.set_result(v1::CosignResponse::COSIGNED);
  resp.set_known_size(cp->size);
  resp.clear_held_note();
  resp.set_cosignature(
      tlog::SignatureLine({name, tlog::NoteKeyId(name, tlog::kCosignatureType, key_.public_key()), sig_bytes}));
  return resp;
}

bool Witness::GapNames(const v1::CosignRequest& req, const tlog::Checkpoint& offered,
                       const tlog::Checkpoint& held) const {
  if (req.gap_leaf().size() > 64 * 1024 || req.gap_inclusion_proof_size() > 64) return false;
  std::vector<tlog::Hash> proof;
  for (const std::string& h : req.gap_inclusion_proof()) {
    if (h.size() != 32) return false;
    proof.emplace_back();
    std::copy(h.begin(), h.end(), proof.back().begin());
  }
  v1::AuditEntry entry;
  if (req.gap_seq() >= offered.size ||
      !tlog::VerifyInclusion(req.gap_seq(), offered.size, tlog::LeafHash(req.gap_leaf()), proof, offered.root) ||
      !entry.ParseFromString(req.gap_leaf()) || entry.seq() != req.gap_seq() || !entry.has_gap() ||
      // Only the bytes this node's own log writes: nothing an auditor's cheaper reading could miss.
      !entry.GetReflection()->GetUnknownFields(entry).empty() || entry.SerializeAsString() != req.gap_leaf()) {
    return false;
  }
  const std::string root(held.root.begin(), held.root.end());
  for (const auto& h : entry.gap().held()) {
    if (h.witness() == self_org_ && h.size() == held.size && h.root() == root) return true;
  }
  return false;
}

absl::Status Witness::Refuse(const std::string& org, const std::string& held, const std::string& offered,
                             uint64_t held_size, uint64_t offered_size) {
  Log(LogLevel::kError, "audit.witness_refused",
      {{"org", org}, {"held_size", held_size}, {"offered_size", offered_size}});
  return KeepEvidence(org, held, offered);
}

absl::Status Witness::KeepEvidence(const std::string& org, const std::string& held, const std::string& offered) {
  // The first evidence is kept: the node cannot replace its proven fork with
  // a harmless pair by offering more.
  absl::StatusOr<std::string> existing = store_.Get(store::Family::kAudit, audit_keys::Evidence(org));
  if (existing.ok()) return absl::OkStatus();
  if (existing.status().code() != absl::StatusCode::kNotFound) return existing.status();
  v1::WitnessEvidence ev;
  ev.set_held(held);
  ev.set_offered(offered);
  ev.set_at_unix_ms(UnixMs(clock_()));
  return store_.Put(AuditRecord(audit_keys::Evidence(org), ev.SerializeAsString()));
}

std::vector<v1::WitnessView> Witness::Refused() const {
  std::vector<v1::WitnessView> out;
  (void)store_.Scan(store::Family::kAudit, audit_keys::kEvidencePrefix, [&](std::string_view key, const absl::StatusOr<std::string>& v) {
    v1::WitnessEvidence ev;
    if (!v.ok() || !ev.ParseFromString(*v)) return;
    auto held_note = tlog::ParseNote(ev.held());
    auto held = held_note.ok() ? tlog::ParseCheckpointBody(held_note->text)
                               : absl::StatusOr<tlog::Checkpoint>(held_note.status());
    auto note = tlog::ParseNote(ev.offered());
    auto offered = note.ok() ? tlog::ParseCheckpointBody(note->text) : absl::StatusOr<tlog::Checkpoint>(note.status());
    v1::WitnessView view;
    view.set_org(std::string(key.substr(1)));
    view.set_known_size(held.ok() ? held->size : 0);
    view.set_offered_size(offered.ok() ? offered->size : 0);
    view.set_at_unix_ms(ev.at_unix_ms());
    out.push_back(std::move(view));
  });
  return out;
}

CheckpointPublisher::CheckpointPublisher(const AuditLog& log, store::Store& store, const keys::SigningKey& key,
                                         std::string self_org,
                                         std::function<std::vector<network::ManifestNode>()> witnesses, Offer offer,
                                         Clock clock)
    : log_(log),
      store_(store),
      key_(key),
      self_org_(std::move(self_org)),
      witnesses_(std::move(witnesses)),
      offer_(std::move(offer)),
      clock_(std::move(clock)) {}

CheckpointPublisher::~CheckpointPublisher() { Stop(); }

void CheckpointPublisher::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void CheckpointPublisher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void CheckpointPublisher::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    // At start (so a node restored from an old copy learns it at once), then whenever the log grew.
    if (log_.head().size != published_size_ || published_size_ == 0) {
      lock.unlock();
      (void)PublishNow(std::chrono::system_clock::now() + kOfferTimeout);
      lock.lock();
    }
    wake_.wait_for(lock, kPublishInterval, [&] { return stop_; });
  }
}

std::string CheckpointPublisher::PublishNow(Deadline deadline) {
  std::lock_guard<std::mutex> round(publish_mu_);
  const uint64_t head_size = log_.head().size;
  const std::string signed_note = SignedCheckpoint(log_, key_, self_org_);
  auto note = tlog::ParseNote(signed_note);
  auto cp = note.ok() ? tlog::ParseCheckpointBody(note->text) : absl::StatusOr<tlog::Checkpoint>(note.status());
  if (!cp.ok()) return signed_note;  // cannot happen: we just made it

  // One offer per witness, in parallel: a witness that is down costs its own
  // deadline, not everyone's.
  struct Outcome {
    network::ManifestNode witness;
    uint64_t old_size = 0;
    absl::StatusOr<v1::CosignResponse> resp = absl::UnknownError("not asked");
  };
  std::vector<Outcome> outcomes;
  std::optional<uint64_t> gap_seq;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!gap_loaded_) {
      absl::StatusOr<std::string> g = store_.Get(store::Family::kAudit, audit_keys::kGap);
      if (g.ok() && g->size() == 8) gap_seq_ = ReadU64(AsBytes(*g));
      gap_loaded_ = g.ok() || g.status().code() == absl::StatusCode::kNotFound;
    }
    gap_seq = gap_seq_;
    for (const network::ManifestNode& w : witnesses_()) {
      if (w.org != self_org_) outcomes.push_back({w, witness_sizes_[w.org]});
    }
  }
  // A declared gap goes with every offer: a witness that held the lost
  // history finds itself named in it and cosigns the new one.
  std::string gap_leaf;
  std::vector<tlog::Hash> gap_proof;
  if (gap_seq && *gap_seq < cp->size) {
    auto leaf = log_.Entry(*gap_seq);
    auto proof = log_.InclusionProof(*gap_seq, cp->size);
    if (leaf.ok() && proof.ok()) {
      gap_leaf = *std::move(leaf);
      gap_proof = *std::move(proof);
    }
  }
  std::vector<std::thread> offers;
  for (Outcome& o : outcomes) {
    offers.emplace_back([&, &o = o] {
      for (int attempt = 0; attempt < 2; ++attempt) {
        v1::CosignRequest req;
        req.set_note(signed_note);
        req.set_old_size(o.old_size);
        if (!gap_leaf.empty()) {
          req.set_gap_seq(*gap_seq);
          req.set_gap_leaf(gap_leaf);
          for (const auto& h : gap_proof) req.add_gap_inclusion_proof(std::string(h.begin(), h.end()));
        }
        if (o.old_size <= cp->size) {
          auto proof = log_.ConsistencyProof(o.old_size, cp->size);
          if (!proof.ok()) {
            o.resp = proof.status();
            return;
          }
          for (const auto& h : *proof) req.add_consistency_proof(std::string(h.begin(), h.end()));
        } else if (gap_leaf.empty()) {
          return;  // the witness holds more than this log has
        }
        o.resp = offer_(o.witness, req, deadline);
        if (!o.resp.ok() || o.resp->result() != v1::CosignResponse::OLD_SIZE_MISMATCH) return;
        o.old_size = o.resp->known_size();
      }
    });
  }
  for (auto& t : offers) t.join();

  std::string cosigned = signed_note;
  uint32_t count = 0;
  std::lock_guard<std::mutex> lock(mu_);
  for (const Outcome& o : outcomes) {
    const std::string& org = o.witness.org;
    witness_sizes_[org] = o.old_size;
    // A witness that holds a checkpoint of this log that the log does not
    // extend: believed only on the node's own signed note, checked here.
    const bool took = o.resp.ok() && o.resp->result() == v1::CosignResponse::COSIGNED;
    if (!took && o.resp.ok()) {
      if (std::optional<tlog::Checkpoint> lost = NotExtended(o.resp->held_note(), *cp)) {
        v1::WitnessView view;
        view.set_org(org);
        view.set_known_size(lost->size);
        view.set_offered_size(cp->size);
        view.set_at_unix_ms(UnixMs(clock_()));
        view.set_held_root(std::string(lost->root.begin(), lost->root.end()));
        if (!behind_.contains(org)) {
          Log(LogLevel::kError, "audit.behind_witness",
              {{"witness", org}, {"witness_size", lost->size}, {"log_size", cp->size}});
        }
        behind_[org] = view;
        continue;
      }
    }
    if (!took) continue;
    // Only a valid cosignature by this witness's manifest key is kept: a
    // witness must not be able to spoil the note for the others.
    auto line = tlog::ParseNote(signed_note + o.resp->cosignature());
    if (!line.ok() || line->signatures.size() != note->signatures.size() + 1 ||
        !tlog::VerifyCosignature(*line, WitnessName(org), o.witness.signing_key).ok() ||
        line->signatures.back().key_name != WitnessName(org) || count + 1 >= tlog::kMaxSignatures) {
      continue;
    }
    behind_.erase(org);
    witness_sizes_[org] = cp->size;
    cosigned += o.resp->cosignature();
    ++count;
  }
  published_size_ = std::max(published_size_, head_size);
  if (count > 0) {
    witnessed_size_ = cp->size;
    cosignatures_ = count;
    (void)store_.Put(AuditRecord(std::string(audit_keys::kCosigned), cosigned));
  }
  return cosigned;
}

std::optional<tlog::Checkpoint> CheckpointPublisher::NotExtended(const std::string& held_note,
                                                                 const tlog::Checkpoint& current) const {
  if (held_note.empty()) return std::nullopt;
  auto note = tlog::ParseNote(held_note);
  if (!note.ok()) return std::nullopt;
  auto held = tlog::ParseCheckpointBody(note->text);
  const std::string origin = LogOrigin(self_org_);
  if (!held.ok() || held->origin != origin || !tlog::VerifyNoteSignature(*note, origin, key_.public_key())) {
    return std::nullopt;  // not this node's own checkpoint: a claim, not proof
  }
  if (held->size > current.size) return *held;  // signed more than the log has: restored from an older copy
  auto proof = log_.ConsistencyProof(held->size, current.size);
  if (!proof.ok()) return std::nullopt;
  if (tlog::VerifyConsistency(held->size, current.size, held->root, current.root, *proof)) return std::nullopt;
  return *held;  // a history this log does not extend
}

absl::StatusOr<uint64_t> CheckpointPublisher::DeclareGap(AuditLog& log, const std::string& declared_by) {
  absl::StatusOr<uint64_t> seq = RecordGap(log, declared_by);
  // The witnesses learn of it at once.
  if (seq.ok()) (void)PublishNow(clock_() + kGapOfferWithin);
  return seq;
}

absl::StatusOr<uint64_t> CheckpointPublisher::RecordGap(AuditLog& log, const std::string& declared_by) {
  std::lock_guard<std::mutex> round(publish_mu_);  // no offer in between
  v1::AuditEntry e;
  v1::LogGap& gap = *e.mutable_gap();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (behind_.empty()) {
      return absl::FailedPreconditionError(
          "no witness holds more of this log than it has, or refuses it: there is no gap to declare");
    }
    for (const auto& [org, view] : behind_) {
      v1::LogGap::Held* h = gap.add_held();
      h->set_witness(org);
      h->set_size(view.known_size());
      h->set_root(view.held_root());
    }
  }
  gap.set_restored_size(log.head().size);
  gap.set_declared_by(declared_by);
  const int64_t named = gap.held_size();  // `gap` lives in `e`, which Append takes
  uint64_t seq = 0;
  RETURN_IF_ERROR(log.Append(std::move(e), store::Durability::kSynced, &seq));
  std::string value;
  AppendU64(value, seq);
  RETURN_IF_ERROR(store_.Put(AuditRecord(std::string(audit_keys::kGap), value)));
  Log(LogLevel::kWarn, "audit.gap_declared", {{"gap_seq", seq}, {"witnesses", named}});
  std::lock_guard<std::mutex> lock(mu_);
  gap_seq_ = seq;
  gap_loaded_ = true;
  return seq;
}

v1::AuditStatus CheckpointPublisher::Status() const {
  v1::AuditStatus s;
  s.set_tree_size(log_.head().size);
  std::lock_guard<std::mutex> lock(mu_);
  s.set_witnessed_size(witnessed_size_);
  s.set_cosignatures(cosignatures_);
  for (const auto& [org, view] : behind_) *s.add_behind() = view;
  return s;
}

}  // namespace casenode::node
