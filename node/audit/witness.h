// Witnessing, both sides (C2SP tlog-witness in spirit, over Peer calls):
//
// Witness (serving): keeps, per node, the checkpoint body it last cosigned
// (store family "audit", key "w" || org). A node offers a newer checkpoint
// signed with its manifest key and a consistency proof from that size; the
// witness verifies both, cosigns (timestamped Ed25519, key name
// "casenode.witness/<org>", its node key) and keeps the new checkpoint —
// durable before the cosignature leaves. A checkpoint smaller than the one
// held, or not an extension of it, is refused (REFUSED, with the held note) and
// both notes are kept as evidence (key "x" || org), shown in `node status`.
//
// CheckpointPublisher (offering): at start and every 30 s when the log grew,
// and whenever an auditor asks for a checkpoint, offers the newest checkpoint
// to every other node, collects the cosignatures and keeps the cosigned note
// (key "c"). A witness that holds more of this log than the log has means the
// store was restored from an older copy: the publisher says so in `node
// status` and in the log's own status.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "base/time.h"
#include "casenode/v1/local.pb.h"
#include "casenode/v1/peer.pb.h"
#include "keys/identity.h"
#include "network/manifest.h"
#include "tlog/note.h"
#include "node/audit/audit_log.h"
#include "store/store.h"

namespace casenode::node {

// The note key name of `org` as a witness.
std::string WitnessName(std::string_view org);
// How many witness cosignatures an auditor requires on a checkpoint: what the
// policy asks ([audit] witnesses), in a network with `other_nodes` possible
// witnesses for it.
size_t RequiredWitnesses(uint64_t policy_witnesses, size_t other_nodes);

class Witness {
 public:
  Witness(store::Store& store, const keys::SigningKey& key, std::string self_org, Clock clock)
      : store_(store), key_(key), self_org_(std::move(self_org)), clock_(std::move(clock)) {}

  // `caller`: the authenticated caller's manifest entry.
  [[nodiscard]] absl::StatusOr<v1::CosignResponse> Cosign(const network::ManifestNode& caller,
                                                          const v1::CosignRequest& request);
  // The nodes this witness refused, from the kept evidence.
  std::vector<v1::WitnessView> Refused() const;

 private:
  // Whether the offer's declared gap is a gap entry in the offered tree, in
  // the log's own encoding, that names this witness with the checkpoint (size
  // and root) it holds. A malformed gap names no one.
  [[nodiscard]] bool GapNames(const v1::CosignRequest& req, const tlog::Checkpoint& offered,
                                              const tlog::Checkpoint& held) const;
  // Keeps the first evidence of a fork per node (both signed notes).
  [[nodiscard]] absl::Status KeepEvidence(const std::string& org, const std::string& held, const std::string& offered);
  [[nodiscard]] absl::Status Refuse(const std::string& org, const std::string& held, const std::string& offered,
                                    uint64_t held_size, uint64_t offered_size);
  store::Store& store_;
  const keys::SigningKey& key_;
  const std::string self_org_;
  const Clock clock_;
  std::mutex mu_;  // one offer at a time: read, check and keep are one step
};

class CheckpointPublisher {
 public:
  using Deadline = std::chrono::system_clock::time_point;
  // Sends one offer to one witness (a Peer Cosign call).
  using Offer = std::function<absl::StatusOr<v1::CosignResponse>(const network::ManifestNode& witness,
                                                                 const v1::CosignRequest& request, Deadline deadline)>;
  // `witnesses()` gives the nodes to offer to (every other node of the manifest).
  CheckpointPublisher(const AuditLog& log, store::Store& store, const keys::SigningKey& key, std::string self_org,
                      std::function<std::vector<network::ManifestNode>()> witnesses, Offer offer, Clock clock);
  ~CheckpointPublisher();

  void Start();
  void Stop();
  // Offers the newest checkpoint to every witness now and returns the note
  // with every cosignature it got (also kept as the latest cosigned note).
  std::string PublishNow(Deadline deadline);
  v1::AuditStatus Status() const;

  // The operator declares, after a restore, that the entries the witnesses
  // shown BEHIND (or refusing) saw beyond this log are lost: appends a LogGap
  // entry naming each with the size it holds, and from then on offers it with
  // every checkpoint so those witnesses can cosign the new history; offers
  // it at once, waiting at most kGapOfferWithin. Returns the entry's seq;
  // FailedPrecondition if no witness is behind.
  [[nodiscard]] absl::StatusOr<uint64_t> DeclareGap(AuditLog& log, const std::string& declared_by);
  static constexpr std::chrono::seconds kGapOfferWithin{5};

 private:
  [[nodiscard]] absl::StatusOr<uint64_t> RecordGap(AuditLog& log, const std::string& declared_by);
  void Run();
  // The checkpoint in `held_note` if it is this node's own, signed with its
  // key, and the log at `current` does not extend it; nullopt otherwise.
  std::optional<tlog::Checkpoint> NotExtended(const std::string& held_note,
                                                    const tlog::Checkpoint& current) const;

  const AuditLog& log_;
  store::Store& store_;
  const keys::SigningKey& key_;
  const std::string self_org_;
  const std::function<std::vector<network::ManifestNode>()> witnesses_;
  const Offer offer_;
  const Clock clock_;
  std::mutex publish_mu_;  // one round at a time
  mutable std::mutex mu_;
  std::map<std::string, uint64_t> witness_sizes_;      // what each witness holds, as last learned
  std::map<std::string, v1::WitnessView> behind_;      // witnesses that hold more than this log has
  std::optional<uint64_t> gap_seq_;                    // the last declared gap's entry (store key "g")
  bool gap_loaded_ = false;
  uint64_t witnessed_size_ = 0;
  uint32_t cosignatures_ = 0;
  uint64_t published_size_ = 0;
  bool stop_ = false;
  std::condition_variable wake_;
  std::thread thread_;
};

}  // namespace casenode::node
