#include "node/audit/audit_log.h"

#include <google/protobuf/io/coded_stream.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <optional>
#include <span>

#include "node/audit/keyspace.h"
#include "base/encoding.h"
#include "base/log.h"
#include "base/reason.h"
#include "base/status.h"
#include "base/strings.h"
#include "tlog/note.h"

namespace casenode::node {
namespace {


// How long buffered entries wait for company before they are written. Each
// wake-up of the writer costs a context switch that, on 2 virtual cores,
// shows in peer_ping. Only events about no personal data wait; a crash loses
// at most this window (and never leaves a gap: sequence numbers are assigned
// when written).
constexpr auto kBufferedDelay = std::chrono::milliseconds(50);


std::string EncodeHashes(std::span<const tlog::Hash> hashes) {
  std::string out;
  out.reserve(hashes.size() * 32);
  for (const tlog::Hash& h : hashes) out.append(reinterpret_cast<const char*>(h.data()), h.size());
  return out;
}

// `count` hashes, or nullopt if `bytes` is not exactly that many.
std::optional<std::vector<tlog::Hash>> DecodeHashes(std::string_view bytes, size_t count) {
  if (bytes.size() != count * 32) return std::nullopt;
  std::vector<tlog::Hash> out(count);
  for (size_t i = 0; i < count; ++i) std::copy_n(bytes.data() + 32 * i, 32, out[i].begin());
  return out;
}

// One hash, or nullopt if `bytes` is not exactly one.
std::optional<tlog::Hash> DecodeHash(std::string_view bytes) {
  if (bytes.size() != 32) return std::nullopt;
  tlog::Hash h;
  std::copy_n(bytes.data(), 32, h.begin());
  return h;
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

namespace {

// Whether `leaves` are the leaf hashes of the last `count` entries of the
// tree `state`: the complete subtrees they make are its smallest ones.
bool MatchesState(const tlog::Frontier& state, size_t count, std::span<const tlog::Hash> leaves) {
  if (leaves.size() != count) return false;
  tlog::Frontier block;
  for (const tlog::Hash& h : leaves) block.Append(h, [](tlog::NodeId, const tlog::Hash&) {});
  const std::vector<tlog::Hash>& all = state.hashes();
  const std::vector<tlog::Hash>& own = block.hashes();
  return own.size() <= all.size() && std::equal(own.begin(), own.end(), all.end() - own.size());
}

// A record that may be missing: nullopt if it is, the store's error if it
// cannot be read (I/O, failed authentication, a newer format: never a reason
// to fall back to another source).
absl::StatusOr<std::optional<std::string>> GetIfPresent(const store::Store& store, std::string_view key) {
  absl::StatusOr<std::string> value = store.Get(store::Family::kAudit, key);
  if (value.ok()) return std::optional<std::string>(*std::move(value));
  if (value.status().code() == absl::StatusCode::kNotFound) return std::optional<std::string>();
  return value.status();
}

// The leaf hashes of the last, incomplete block (`count` of them), from the
// first source that agrees with the tree state: its "p" record; in a log
// written before blocks, its level-1 records (and the state's last hash
// when the size is odd); else the entries themselves. A missing record
// moves on to the next source; one that cannot be read stops the log.
absl::StatusOr<std::vector<tlog::Hash>> RecoverOpenBlock(const store::Store& store, const tlog::Frontier& state,
                                                         size_t count) {
  if (count == 0) return std::vector<tlog::Hash>{};
  const uint64_t first = state.size() - count;
  ASSIGN_OR_RETURN(std::optional<std::string> p, GetIfPresent(store, audit_keys::kPending));
  if (p) {
    std::optional<std::vector<tlog::Hash>> hashes = DecodeHashes(*p, count);
    if (hashes && MatchesState(state, count, *hashes)) return *std::move(hashes);
    Log(LogLevel::kWarn, "audit.open_block_record_rejected",
        {{"entries", static_cast<int64_t>(count)}, {"record_hashes", static_cast<int64_t>(p->size() / 32)}});
  }
  std::vector<tlog::Hash> from_pairs;
  for (uint64_t i = first; i + 1 < state.size(); i += 2) {
    ASSIGN_OR_RETURN(std::optional<std::string> pair, GetIfPresent(store, audit_keys::TreeNode({1, i / 2})));
    std::optional<std::vector<tlog::Hash>> two = pair ? DecodeHashes(*pair, 2) : std::nullopt;
    if (!two) break;
    from_pairs.insert(from_pairs.end(), two->begin(), two->end());
  }
  if ((state.size() & 1) != 0) from_pairs.push_back(state.hashes().back());
  if (MatchesState(state, count, from_pairs)) return from_pairs;
  std::vector<tlog::Hash> from_entries;
  for (uint64_t seq = first; seq < state.size(); ++seq) {
    ASSIGN_OR_RETURN(std::optional<std::string> leaf, GetIfPresent(store, audit_keys::Entry(seq)));
    if (!leaf) break;
    from_entries.push_back(tlog::LeafHash(*leaf));
  }
  if (MatchesState(state, count, from_entries)) {
    Log(LogLevel::kWarn, "audit.open_block_recovered", {{"entries", static_cast<int64_t>(count)}});
    return from_entries;
  }
  return Error(Reason::kRecordCorrupt,
               "the audit log's last block agrees with its tree state in no record: not its block record, "
               "not its tree nodes, not its entries");
}

}  // namespace

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(store::Store& store, MsClock clock_ms) {
  tlog::Frontier frontier;
  ASSIGN_OR_RETURN(std::optional<std::string> state, GetIfPresent(store, audit_keys::kState));
  if (state) {
    absl::StatusOr<tlog::Frontier> decoded = tlog::Frontier::Decode(*state, "audit log state");
    if (!decoded.ok()) return WithReason(decoded.status(), Reason::kRecordCorrupt);
    frontier = *std::move(decoded);
  } else {
    // No tree state is a new log only if there are no entries either: one
    // that lost its state must not start again at 0 over its own entries.
    bool has_entries = false;
    RETURN_IF_ERROR(store.Scan(store::Family::kAudit, std::string_view(&audit_keys::kEntryPrefix, 1),
                               [&](std::string_view, const absl::StatusOr<std::string>&) { has_entries = true; }));
    if (has_entries) {
      return Error(Reason::kRecordCorrupt, "the audit log has entries but its tree state is missing or unreadable");
    }
  }
  ASSIGN_OR_RETURN(std::vector<tlog::Hash> pending,
                   RecoverOpenBlock(store, frontier, frontier.size() % kBlockLeaves));
  return std::unique_ptr<AuditLog>(
      new AuditLog(store, std::move(clock_ms), std::move(frontier), std::move(pending)));
}

AuditLog::AuditLog(store::Store& store, MsClock clock_ms, tlog::Frontier frontier, std::vector<tlog::Hash> pending)
    : store_(store),
      clock_ms_(std::move(clock_ms)),
      frontier_(std::move(frontier)),
      head_{frontier_.size(), frontier_.Root()},
      durable_head_(head_),
      pending_(std::move(pending)),
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
  absl::StatusOr<std::string> state = store_.Get(store::Family::kAudit, audit_keys::kState);
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
    // Sized like the last one, so appends under the lock do not regrow it.
    open_->bodies.reserve(batch->bodies.size());
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
  // Sequence numbers, leaves and tree nodes are computed on copies of the
  // frontier and the last block, kept only once the write is durable: a
  // failed write leaves no gap and the next batch takes the same numbers.
  tlog::Frontier next = frontier_;
  std::vector<tlog::Hash> pending = pending_;  // only this thread writes pending_: reading needs no lock
  batch.first_seq = next.size();
  // Entries first, then blocks, then tree nodes in key order: each run of
  // keys is ascending, so RocksDB's memtable inserts each after the one
  // before without a search from the top (interleaved, every insert searched).
  std::vector<store::Record> records;
  std::vector<store::Record> blocks;
  std::vector<store::Record> nodes;
  records.reserve(batch.bodies.size() + batch.bodies.size() / kBlockLeaves * 3 + 8);
  for (const std::string& body : batch.bodies) {
    const uint64_t seq = next.size();
    std::string leaf = LeafBytes(seq, body);
    const tlog::Hash leaf_hash = tlog::LeafHash(leaf);
    next.Append(leaf_hash, [&](tlog::NodeId id, const tlog::Hash& h) {
      if (id.level < kBlockLevel) return;  // computed from the block
      nodes.push_back(AuditRecord(audit_keys::TreeNode(id), std::string(reinterpret_cast<const char*>(h.data()), h.size())));
    });
    pending.push_back(leaf_hash);
    if (pending.size() == kBlockLeaves) {
      blocks.push_back(AuditRecord(audit_keys::Block(seq / kBlockLeaves), EncodeHashes(pending)));
      pending.clear();
    }
    records.push_back(AuditRecord(audit_keys::Entry(seq), std::move(leaf)));
  }
  std::sort(nodes.begin(), nodes.end(), [](const store::Record& a, const store::Record& b) { return a.key < b.key; });
  std::move(blocks.begin(), blocks.end(), std::back_inserter(records));
  std::move(nodes.begin(), nodes.end(), std::back_inserter(records));
  records.push_back(AuditRecord(std::string(audit_keys::kPending), EncodeHashes(pending)));
  records.push_back(AuditRecord(std::string(audit_keys::kState), next.Encode()));
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
  pending_ = std::move(pending);
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
  return store_.Get(store::Family::kAudit, audit_keys::Entry(seq));
}

absl::StatusOr<tlog::Hash> AuditLog::ReadLowNode(tlog::NodeId id) const {
  const uint64_t leaves = uint64_t{1} << id.level;
  const uint64_t first = id.index << id.level;  // its first leaf
  const uint64_t block = first / kBlockLeaves;
  const uint64_t offset = first % kBlockLeaves;
  {
    // In the incomplete last block: its leaf hashes are in memory. (Proofs
    // ask only for complete subtrees of the committed tree.)
    std::lock_guard<std::mutex> lock(head_mu_);
    const uint64_t block_start = head_.size - pending_.size();
    if (first >= block_start) {
      if (first + leaves > head_.size) return absl::OutOfRangeError("no such audit tree node yet");
      return tlog::RootOf(std::span(pending_).subspan(first - block_start, leaves));
    }
  }
  absl::StatusOr<std::string> stored = store_.Get(store::Family::kAudit, audit_keys::Block(block));
  if (stored.ok()) {
    std::optional<std::vector<tlog::Hash>> hashes = DecodeHashes(*stored, kBlockLeaves);
    if (!hashes) return Error(Reason::kRecordCorrupt, "an audit block has the wrong length");
    return tlog::RootOf(std::span(*hashes).subspan(offset, leaves));
  }
  if (stored.status().code() != absl::StatusCode::kNotFound) return stored.status();
  // A block written before blocks: level 1 holds its two leaf hashes, levels 2 and 3 their hash.
  const tlog::NodeId own = id.level == 0 ? tlog::NodeId{1, id.index / 2} : id;
  absl::StatusOr<std::string> v = store_.Get(store::Family::kAudit, audit_keys::TreeNode(own));
  if (!v.ok()) return v.status();
  if (own.level == 1) {
    std::optional<std::vector<tlog::Hash>> two = DecodeHashes(*v, 2);
    if (!two) return Error(Reason::kRecordCorrupt, "an audit tree node has the wrong length");
    if (id.level == 0) return (*two)[id.index & 1];
    return tlog::NodeHash((*two)[0], (*two)[1]);
  }
  std::optional<tlog::Hash> one = DecodeHash(*v);
  if (!one) return Error(Reason::kRecordCorrupt, "an audit tree node has the wrong length");
  return *one;
}

absl::StatusOr<tlog::Hash> AuditLog::ReadNode(tlog::NodeId id) const {
  if (id.level < kBlockLevel) return ReadLowNode(id);
  // Stored nodes never change, so the upper levels (read by every proof) are
  // kept in memory once read: at most one per 2^kCachedLevel entries.
  const bool cached = id.level >= kCachedLevel;
  if (cached) {
    std::shared_lock<std::shared_mutex> lock(cache_mu_);
    if (auto it = upper_nodes_.find({id.level, id.index}); it != upper_nodes_.end()) return it->second;
  }
  absl::StatusOr<std::string> v = store_.Get(store::Family::kAudit, audit_keys::TreeNode(id));
  if (!v.ok()) return v.status();
  std::optional<tlog::Hash> one = DecodeHash(*v);
  if (!one) return Error(Reason::kRecordCorrupt, "an audit tree node has the wrong length");
  const tlog::Hash h = *one;
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

v1::AuditEntry CallSentEntry(std::string_view method, std::string_view peer_org, std::string_view trace_id,
                             std::string_view span_id, std::chrono::system_clock::time_point started,
                             absl::StatusCode outcome) {
  v1::AuditEntry e;
  e.set_time_unix_ms(std::chrono::duration_cast<std::chrono::milliseconds>(started.time_since_epoch()).count());
  e.set_trace_id(std::string(trace_id));
  e.set_span_id(std::string(span_id));
  v1::PeerCallSent* sent = e.mutable_call_sent();
  sent->set_method(std::string(method));
  sent->set_peer_org(std::string(peer_org));
  sent->set_outcome(absl::StatusCodeToString(outcome));
  return e;
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
