#include "node/audit/audit_log.h"

#include <google/protobuf/io/coded_stream.h>

#include <algorithm>
#include <chrono>
#include <iterator>

#include "base/encoding.h"
#include "base/log.h"
#include "base/reason.h"
#include "base/strings.h"
#include "keys/tlog/note.h"

namespace casenode::node {
namespace {

namespace tlog = keys::tlog;

// How long buffered entries wait for company before they are written. Each
// wake-up of the writer costs a context switch that, on 2 virtual cores,
// shows in peer_ping. Only events about no personal data wait; a crash loses
// at most this window (and never leaves a gap: sequence numbers are assigned
// when written).
constexpr auto kBufferedDelay = std::chrono::milliseconds(50);

constexpr char kEntryPrefix = 'e';
constexpr char kNodePrefix = 'n';
constexpr std::string_view kStateKey = "s";

std::string EntryKey(uint64_t seq) {
  std::string k(1, kEntryPrefix);
  AppendU64(k, seq);
  return k;
}

std::string NodeKey(tlog::NodeId id) {
  std::string k(1, kNodePrefix);
  k.push_back(static_cast<char>(id.level));
  AppendU64(k, id.index);
  return k;
}

}  // namespace

std::string LeafBytes(uint64_t seq, std::string_view body) {
  uint8_t head[1 + 10];  // tag and at most 10 varint bytes
  head[0] = 0x08;  // field 1, varint
  uint8_t* end = google::protobuf::io::CodedOutputStream::WriteVarint64ToArray(seq, head + 1);
  std::string out(reinterpret_cast<const char*>(head), static_cast<size_t>(end - head));
  out.append(body);
  return out;
}

namespace {

}  // namespace

store::Record AuditRecord(std::string key, std::string value) {
  return store::Record{store::Family::kAudit, std::move(key), keys::DataKeyRef{keys::DataKeyKind::kNode, {}},
                       std::move(value), std::nullopt};
}

// Fields are assigned in place (not set from temporaries) so a reused record
// keeps its strings' capacity.
void EncodeDecision(const DecisionEvent& e, int64_t now_ms, v1::DecisionRecord& rec) {
  const policy::Request& q = *e.request;
  const policy::Decision& d = *e.decision;
  rec.set_time_unix_ms(now_ms);
  rec.mutable_trace_id()->assign(e.trace_id);
  rec.mutable_method()->assign(e.method);
  rec.set_requester_org(q.requester_org);
  rec.set_requester_role(e.requester_role);
  rec.set_action(q.action);
  rec.set_purpose(q.purpose);
  for (const auto& c : q.categories) rec.add_categories(c);
  rec.set_legal_basis(q.legal_basis);
  rec.set_allowed(d.allowed());
  rec.set_rule_id(d.rule_id);
  rec.mutable_reason()->assign(ReasonName(d.reason));
  rec.set_policy_hash(d.policy_hash);
  for (const auto& id : d.consent_receipt_ids) rec.add_consent_receipt_ids(id);
  rec.set_request_digest(d.request_digest);
  // The whole request as decided (the bytes of its digest), so an auditor can decide it again.
  rec.set_canonical_request(d.canonical_request);
  if (e.consent_checks != nullptr) {
    for (const auto& c : *e.consent_checks) *rec.add_consent_checks() = c;
  }
}

int64_t AuditLog::SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(store::Store& store, MsClock clock_ms) {
  tlog::Frontier frontier;
  absl::StatusOr<std::string> state = store.Get(store::Family::kAudit, kStateKey);
  if (state.ok()) {
    absl::StatusOr<tlog::Frontier> decoded = tlog::Frontier::Decode(*state, "audit log state");
    if (!decoded.ok()) return WithReason(decoded.status(), Reason::kRecordCorrupt);
    frontier = *std::move(decoded);
  } else if (state.status().code() != absl::StatusCode::kNotFound) {
    return state.status();
  }
  return std::unique_ptr<AuditLog>(new AuditLog(store, std::move(clock_ms), std::move(frontier)));
}

AuditLog::AuditLog(store::Store& store, MsClock clock_ms, tlog::Frontier frontier)
    : store_(store),
      clock_ms_(std::move(clock_ms)),
      frontier_(std::move(frontier)),
      head_{frontier_.size(), frontier_.Root()},
      durable_head_(head_),
      odd_leaf_((frontier_.size() & 1) != 0 ? frontier_.hashes().back() : tlog::Hash{}),
      writer_([this] { Run(); }) {}

AuditLog::~AuditLog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_.notify_one();
  writer_.join();
}

absl::Status AuditLog::Probe() const {
  absl::StatusOr<std::string> state = store_.Get(store::Family::kAudit, kStateKey);
  if (state.ok() || state.status().code() == absl::StatusCode::kNotFound) return absl::OkStatus();
  return state.status();
}

absl::Status AuditLog::Append(const DecisionEvent& event, store::Durability durability, uint64_t* seq) {
  const int64_t ms = clock_ms_();
  // The message is reused per thread and only ever holds a decision: every
  // field below is assigned on each use and the decision is cleared in place
  // (clearing the entry would free it, oneofs do not keep their message), so
  // strings and repeated fields keep their capacity across calls.
  thread_local v1::AuditEntry entry;
  v1::DecisionRecord& decision = *entry.mutable_decision();
  decision.Clear();
  entry.set_time_unix_ms(ms);
  entry.mutable_trace_id()->assign(event.trace_id);
  entry.mutable_span_id()->assign(event.span_id);
  entry.mutable_subject()->assign(event.subject);
  EncodeDecision(event, ms, decision);
  return Enqueue(entry.SerializeAsString(), durability, seq);
}

absl::Status AuditLog::Append(v1::AuditEntry entry, store::Durability durability, uint64_t* seq) {
  if (entry.event_case() == v1::AuditEntry::EVENT_NOT_SET) return absl::InvalidArgumentError("audit entry has no event");
  entry.clear_seq();
  if (entry.time_unix_ms() == 0) entry.set_time_unix_ms(clock_ms_());
  return Enqueue(entry.SerializeAsString(), durability, seq);
}

absl::Status AuditLog::Enqueue(std::string body, store::Durability durability, uint64_t* seq) {
  std::unique_lock<std::mutex> lock(mu_);
  if (stop_) return absl::UnavailableError("audit log is shutting down");
  std::shared_ptr<Batch> batch = open_;
  const size_t index = batch->bodies.size();
  batch->bodies.push_back(std::move(body));
  const bool durable = durability == store::Durability::kSynced;
  batch->durable = batch->durable || durable;
  // The writer waits for a first entry, or (with buffered ones) for a durable
  // one; later buffered entries just join the batch without a wake-up.
  if (batch->bodies.size() == 1 || durable) work_.notify_one();
  if (!durable) return absl::OkStatus();
  done_.wait(lock, [&] { return batch->done; });
  if (seq != nullptr) *seq = batch->first_seq + index;
  return batch->status;
}

void AuditLog::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    work_.wait(lock, [&] { return stop_ || !open_->bodies.empty(); });
    if (open_->bodies.empty()) return;  // stopping, nothing left
    if (!open_->durable && !stop_) {
      work_.wait_for(lock, kBufferedDelay, [&] { return stop_ || open_->durable; });
    }
    std::shared_ptr<Batch> batch = std::move(open_);
    open_ = std::make_shared<Batch>();
    lock.unlock();
    // While this batch is written (and fsynced), new appends gather in the next one.
    absl::Status status = Commit(*batch);
    lock.lock();
    batch->done = true;
    batch->status = std::move(status);
    done_.notify_all();
  }
}

absl::Status AuditLog::Commit(Batch& batch) {
  // Sequence numbers, leaves and tree nodes are computed on a copy of the
  // frontier, kept only once the write is durable: a failed write leaves no
  // gap and the next batch takes the same numbers.
  tlog::Frontier next = frontier_;
  batch.first_seq = next.size();
  // Entries first, then tree nodes level by level: each run of keys is
  // ascending, so RocksDB's memtable inserts each after the one before
  // without a search from the top (interleaved, every insert searched).
  std::vector<store::Record> records;
  std::vector<store::Record> nodes;
  records.reserve(batch.bodies.size() * 2 + 1);
  nodes.reserve(batch.bodies.size() + 64);
  for (const std::string& body : batch.bodies) {
    const uint64_t seq = next.size();
    std::string leaf = LeafBytes(seq, body);
    const tlog::Hash leaf_hash = tlog::LeafHash(leaf);
    // An odd leaf completes a level-1 node: its left sibling is the
    // frontier's last hash before this append.
    const tlog::Hash left = (seq & 1) != 0 ? next.hashes().back() : tlog::Hash{};
    next.Append(leaf_hash, [&](tlog::NodeId id, const tlog::Hash& h) {
      std::string value;
      if (id.level == 0) return;  // stored with its sibling in the level-1 node
      if (id.level == 1) {
        value.append(reinterpret_cast<const char*>(left.data()), left.size());
        value.append(reinterpret_cast<const char*>(leaf_hash.data()), leaf_hash.size());
      } else {
        value.assign(reinterpret_cast<const char*>(h.data()), h.size());
      }
      nodes.push_back(AuditRecord(NodeKey(id), std::move(value)));
    });
    records.push_back(AuditRecord(EntryKey(seq), std::move(leaf)));
  }
  std::sort(nodes.begin(), nodes.end(), [](const store::Record& a, const store::Record& b) { return a.key < b.key; });
  std::move(nodes.begin(), nodes.end(), std::back_inserter(records));
  records.push_back(AuditRecord(std::string(kStateKey), next.Encode()));
  absl::Status status =
      store_.Write(records, batch.durable ? store::Durability::kSynced : store::Durability::kBuffered);
  if (!status.ok()) {
    Log(LogLevel::kError, "audit.append_failed",
        {{"entries", static_cast<int64_t>(batch.bodies.size())}, {"status", absl::StatusCodeToString(status.code())}});
    return absl::UnavailableError(StrCat("the audit log cannot be written: ", std::string(status.message())));
  }
  const Head head{next.size(), next.Root()};
  frontier_ = std::move(next);
  std::lock_guard<std::mutex> lock(head_mu_);
  head_ = head;
  // A synced write makes everything before it durable too.
  if (batch.durable) durable_head_ = head;
  if ((head.size & 1) != 0) odd_leaf_ = frontier_.hashes().back();
  return absl::OkStatus();
}

AuditLog::Head AuditLog::head() const {
  std::lock_guard<std::mutex> lock(head_mu_);
  return head_;
}

AuditLog::Head AuditLog::durable_head() const {
  std::lock_guard<std::mutex> lock(head_mu_);
  return durable_head_;
}

absl::StatusOr<std::string> AuditLog::Entry(uint64_t seq) const {
  if (seq >= head().size) return absl::OutOfRangeError("no audit entry with that sequence number yet");
  return store_.Get(store::Family::kAudit, EntryKey(seq));
}

absl::StatusOr<tlog::Hash> AuditLog::ReadNode(tlog::NodeId id) const {
  if (id.level == 0) {
    {
      std::lock_guard<std::mutex> lock(head_mu_);
      if ((head_.size & 1) != 0 && id.index == head_.size - 1) return odd_leaf_;
    }
    absl::StatusOr<std::string> pair = store_.Get(store::Family::kAudit, NodeKey({1, id.index / 2}));
    if (!pair.ok()) return pair.status();
    if (pair->size() != 64) return Error(Reason::kRecordCorrupt, "an audit tree node has the wrong length");
    tlog::Hash h;
    std::copy_n(pair->data() + ((id.index & 1) != 0 ? 32 : 0), 32, h.begin());
    return h;
  }
  // Stored nodes never change, so the upper levels (read by every proof) are
  // kept in memory once read: at most one per 2^kCachedLevel entries.
  const bool cached = id.level >= kCachedLevel;
  if (cached) {
    std::shared_lock<std::shared_mutex> lock(cache_mu_);
    if (auto it = upper_nodes_.find({id.level, id.index}); it != upper_nodes_.end()) return it->second;
  }
  absl::StatusOr<std::string> v = store_.Get(store::Family::kAudit, NodeKey(id));
  if (!v.ok()) return v.status();
  tlog::Hash h;
  if (id.level == 1 && v->size() == 64) {
    tlog::Hash l, r;
    std::copy_n(v->data(), 32, l.begin());
    std::copy_n(v->data() + 32, 32, r.begin());
    h = tlog::NodeHash(l, r);
  } else if (id.level > 1 && v->size() == 32) {
    std::copy(v->begin(), v->end(), h.begin());
  } else {
    return Error(Reason::kRecordCorrupt, "an audit tree node has the wrong length");
  }
  if (cached) {
    std::unique_lock<std::shared_mutex> lock(cache_mu_);
    upper_nodes_.emplace(std::make_pair(id.level, id.index), h);
  }
  return h;
}

absl::StatusOr<std::vector<tlog::Hash>> AuditLog::InclusionProof(uint64_t seq, uint64_t size) const {
  if (size > head().size) return absl::OutOfRangeError("tree size is beyond the log");
  return tlog::InclusionProof(seq, size, [this](tlog::NodeId id) { return ReadNode(id); });
}

absl::StatusOr<std::vector<tlog::Hash>> AuditLog::ConsistencyProof(uint64_t old_size, uint64_t size) const {
  if (size > head().size) return absl::OutOfRangeError("tree size is beyond the log");
  return tlog::ConsistencyProof(old_size, size, [this](tlog::NodeId id) { return ReadNode(id); });
}

std::optional<uint64_t> LeafSeq(std::string_view leaf) {
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(leaf.data()),
                                            static_cast<int>(std::min<size_t>(leaf.size(), 11)));
  uint64_t seq = 0;
  if (in.ReadTag() != 0x08 || !in.ReadVarint64(&seq)) return std::nullopt;
  return seq;
}

bool LeafIsGap(std::string_view leaf) {
  constexpr uint32_t kGapField = v1::AuditEntry::kGapFieldNumber;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(leaf.data()),
                                            static_cast<int>(leaf.size()));
  // Walks the top-level fields without parsing them.
  for (uint32_t tag = in.ReadTag(); tag != 0; tag = in.ReadTag()) {
    if ((tag >> 3) == kGapField) return true;
    uint64_t v = 0;
    uint32_t len = 0;
    switch (tag & 7) {
      case 0: if (!in.ReadVarint64(&v)) return false; break;
      case 1: if (!in.Skip(8)) return false; break;
      case 2: if (!in.ReadVarint32(&len) || !in.Skip(static_cast<int>(len))) return false; break;
      case 5: if (!in.Skip(4)) return false; break;
      default: {  // groups (never written here): read the whole entry
        v1::AuditEntry entry;
        return entry.ParseFromArray(leaf.data(), static_cast<int>(leaf.size())) && entry.has_gap();
      }
    }
  }
  return false;
}

std::string LogOrigin(std::string_view org) { return StrCat("casenode.log/", std::string(org)); }

std::string SignedCheckpoint(const AuditLog& log, const keys::SigningKey& key, std::string_view org) {
  // Never sign what a power loss could take back: witnesses would then see
  // an honest node as rolled back.
  const AuditLog::Head head = log.durable_head();
  const std::string origin = LogOrigin(org);
  const std::string body = tlog::CheckpointBody({origin, head.size, head.root});
  const keys::Signature sig = key.SignNote(body);
  tlog::Note note{body, {{origin, tlog::NoteKeyId(origin, tlog::kEd25519Type, key.public_key()),
                          std::string(reinterpret_cast<const char*>(sig.data()), sig.size())}}};
  return tlog::FormatNote(note);
}

}  // namespace casenode::node
