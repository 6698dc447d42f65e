// AuditLog: the node's append-only Merkle log (RFC 9162) of every decision
// the gate takes and every policy load, in the store's "audit" family.
//
// Append(kSynced) returns once the entry, the tree nodes it completes and the
// new tree state are fsynced together with everything appended before it — or
// with the error, and the caller must then not answer (fail closed). One
// writer thread assigns sequence numbers and group-commits: each batch is one
// atomic, synced RocksDB write, so a crash (kill -9 at any moment) leaves
// either all of a batch or none of it, and the tree state always matches the
// entries. Append(kBuffered), for events that concern no one (a ping),
// returns at once; the entry goes out with the next batch, within 50 ms.
//
// Store layout (family "audit", every value sealed under the node data key):
//   "e" || seq u64be             -> the entry's leaf bytes (a v1.AuditEntry)
//   "b" || block u64be           -> the 16 leaf hashes of entries 16*block ..
//                                   16*block+15 (512 bytes), written with the
//                                   batch that completes the block; tree
//                                   nodes below level 4 are computed from it,
//                                   and a lost entry does not hide its
//                                   neighbours' proofs
//   "n" || level u8 || idx u64be -> the complete subtree (level, idx), level
//                                   >= 4: its hash (32 bytes)
//   "p"                          -> the leaf hashes of the last, incomplete
//                                   block (size mod 16 of them)
//   "s"                          -> tlog::Frontier of the committed tree
// One entry costs 1 + 1/16 + 1/8 records. Logs written before blocks (every
// "n" level from 1, level 1 as its two leaf hashes) are read as they are.
// The leaf bytes are 0x08 varint(seq) || the entry serialized without seq,
// i.e. protobuf's own encoding with field 1 first.
// Thread-safe. The destructor writes everything still pending.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "casenode/v1/types.pb.h"
#include "keys/identity.h"
#include "tlog/merkle.h"
#include "store/store.h"
#include "policy/request.h"

namespace casenode::node {

// The most entries one ReadAudit call returns.
inline constexpr uint32_t kMaxAuditPage = 1000;
// The most entries one inzage ReadAudit call scans for the child's.
inline constexpr uint32_t kMaxInzageScan = 100000;
// The most entries about one child an inzage lists per node.
inline constexpr int kMaxInzageEntries = 10000;

// One decision as the gate took it.
struct DecisionEvent {
  std::string_view method;  // "Peer.Ping", ...
  std::string_view trace_id;
  std::string_view span_id;
  v1::Role requester_role = v1::ROLE_UNSPECIFIED;
  const policy::Request* request = nullptr;    // what was decided
  const policy::Decision* decision = nullptr;  // and how
  std::string_view subject;  // the child it concerns, sealed (subject_seal.h); "" if none
  const std::vector<v1::ConsentCheck>* consent_checks = nullptr;  // the answers its consent facts rest on
};

// The stored form of a decision into `record`.
void EncodeDecision(const DecisionEvent& event, int64_t now_ms, v1::DecisionRecord& record);

class AuditLog {
 public:
  using MsClock = std::function<int64_t()>;
  // Opens the log in `store` (which must outlive it), reading the committed
  // tree state. DataLoss if the state record is damaged.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<AuditLog>> Open(store::Store& store,
                                                                      MsClock clock_ms = SystemNowMs);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Whether the log's store still reads (its tree state): for the watchdog.
  [[nodiscard]] absl::Status Probe() const;
  // Encodes and appends one decision. REQUIRES: event.request and event.decision set.
  // With kSynced, `*seq` (if given) gets its number.
  [[nodiscard]] absl::Status Append(const DecisionEvent& event, store::Durability durability, uint64_t* seq = nullptr);
  // Appends `entry` (its seq is set here, its time too unless it has one;
  // its event must be set). With kSynced, `*seq` (if given) gets its number.
  [[nodiscard]] absl::Status Append(v1::AuditEntry entry, store::Durability durability, uint64_t* seq = nullptr);

  struct Head {
    uint64_t size = 0;
    tlog::Hash root = tlog::EmptyRoot();
  };
  // The committed tree: every entry below size is written and readable
  // (buffered ones survive a process crash, not a power loss).
  Head head() const;
  // The tree as of the last synced write: what survives a power loss, and
  // the only tree a checkpoint may sign.
  Head durable_head() const;

  // The leaf bytes of entry `seq`. OutOfRange if seq >= head().size.
  [[nodiscard]] absl::StatusOr<std::string> Entry(uint64_t seq) const;
  // Proofs within the committed tree. OutOfRange if `size` > head().size.
  [[nodiscard]] absl::StatusOr<std::vector<tlog::Hash>> InclusionProof(uint64_t seq, uint64_t size) const;
  [[nodiscard]] absl::StatusOr<std::vector<tlog::Hash>> ConsistencyProof(uint64_t old_size,
                                                                               uint64_t size) const;

  static int64_t SystemNowMs();

 private:
  struct Batch {
    std::vector<std::string> bodies;  // entries serialized without seq
    uint64_t first_seq = 0;           // set when written
    bool durable = false;
    bool done = false;
    absl::Status status;
  };
  AuditLog(store::Store& store, MsClock clock_ms, tlog::Frontier frontier,
           std::vector<tlog::Hash> pending);
  [[nodiscard]] absl::Status Enqueue(std::string body, store::Durability durability, uint64_t* seq = nullptr);
  [[nodiscard]] absl::Status Commit(Batch& batch);
  [[nodiscard]] absl::StatusOr<tlog::Hash> ReadNode(tlog::NodeId id) const;
  // A node below kBlockLevel from its block's leaf hashes (or, in logs
  // written before blocks, from its own record).
  [[nodiscard]] absl::StatusOr<tlog::Hash> ReadLowNode(tlog::NodeId id) const;
  void Run();

  // Tree nodes at this level and above are cached once read.
  static constexpr uint8_t kCachedLevel = 8;
  // Nodes below this level are not stored: a block of 2^kBlockLevel leaf
  // hashes is.
  static constexpr uint8_t kBlockLevel = 4;
  static constexpr uint64_t kBlockLeaves = uint64_t{1} << kBlockLevel;

  store::Store& store_;
  const MsClock clock_ms_;
  mutable std::shared_mutex cache_mu_;
  mutable std::map<std::pair<uint8_t, uint64_t>, tlog::Hash> upper_nodes_;
  tlog::Frontier frontier_;  // only the writer thread touches it
  mutable std::mutex head_mu_;
  Head head_;
  Head durable_head_;
  // The leaf hashes of head_'s incomplete last block (in "p"). Set by the
  // constructor, then written only by the writer thread, under head_mu_;
  // read by it without.
  std::vector<tlog::Hash> pending_;
  std::mutex mu_;
  std::condition_variable work_;
  std::condition_variable done_;
  std::shared_ptr<Batch> open_ = std::make_shared<Batch>();
  bool stop_ = false;
  std::thread writer_;  // last: starts after every other member is ready
};

// A record of the store's "audit" family (this node's log, what it
// witnesses, what it verified), sealed under the node data key.
store::Record AuditRecord(std::string key, std::string value);

// The leaf bytes of an entry: field 1 (seq, even 0) as protobuf writes it,
// then `body`, the entry serialized without seq.
std::string LeafBytes(uint64_t seq, std::string_view body);
// The sequence number a leaf starts with (field 1, first), without parsing
// the rest; nullopt if it does not start so.
std::optional<uint64_t> LeafSeq(std::string_view leaf);
// Whether the leaf is a LogGap entry, read without parsing the whole entry.
bool LeafIsGap(std::string_view leaf);

// The caller's side of a Peer call this node made (PeerCallSent), for
// reconciliation with the callee's log: the time the call started (its callee
// decided after it), the call's trace context and its outcome.
v1::AuditEntry CallSentEntry(std::string_view method, std::string_view peer_org, std::string_view trace_id,
                             std::string_view span_id, std::chrono::system_clock::time_point started,
                             absl::StatusCode outcome);

// The origin line (and note key name) of `org`'s log checkpoints.
std::string LogOrigin(std::string_view org);
// The committed tree of `log` as a C2SP checkpoint note signed by `key`.
std::string SignedCheckpoint(const AuditLog& log, const keys::SigningKey& key, std::string_view org);

}  // namespace casenode::node
