// SignalBook: this node's signals on children, its inbox of match notices and
// its outbox of notices still to deliver, in the record store (family
// "signals"). Nothing is keyed by a pseudonym: keys use the node-local subject
// handle (KeyStore::SubjectHandle), and every value that concerns a child is
// sealed under that child's data key, so shredding the child destroys them.
//
// Keys:   'S' | handle | signal id   -> SignalRecord    (child's key, expires with the retention)
//         'W' | signal id            -> handle          (node key; finds a signal to withdraw)
//         'I' | handle | notice id   -> MatchNotice     (child's key, expires with the retention)
//         'O' | notice id            -> PendingNotice   (child's key, until delivered)
//         'L' | handle | org         -> time (ms)       (child's key, kNoticeWindow): this node
//                                                       answered org's lookup with a match
// Thread-safe (the store is).
#pragma once

#include <array>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "base/time.h"
#include "casenode/v1/types.pb.h"
#include "store/key_store.h"
#include "network/manifest.h"
#include "store/store.h"

namespace casenode::node {

using SubjectHandle = std::array<uint8_t, 32>;

struct SignalDraft {
  std::string purpose;
  std::string category;
  std::string contact;
};

class SignalBook {
 public:
  SignalBook(store::Store& store, const store::KeyStore& keys, Clock clock);

  SubjectHandle HandleOf(std::span<const uint8_t> pseudonym) const;

  // Stores a new signal on the child, expiring `retention` from now.
  [[nodiscard]] absl::StatusOr<v1::SignalRecord> Register(std::span<const uint8_t> pseudonym, const SignalDraft& draft,
                                                          std::chrono::seconds retention);
  // Removes a signal at once: it matches no lookup from then on, and its
  // undelivered notices go too. NotFound (naming the id) if there is no such signal.
  [[nodiscard]] absl::Status Withdraw(std::string_view signal_id);
  // Every live signal (never the child: the node does not know who it is).
  [[nodiscard]] absl::StatusOr<std::vector<v1::SignalRecord>> List() const;
  // The live signals on one child.
  [[nodiscard]] absl::StatusOr<std::vector<v1::SignalRecord>> On(std::span<const uint8_t> pseudonym) const;

  // How long after a matched lookup a match notice from the same sender is kept.
  static constexpr std::chrono::minutes kNoticeWindow{60};
  // Notes that this node answered `org`'s lookup on the child with a match.
  // Buffered: the lookup's synced disclosure follows before the answer.
  [[nodiscard]] absl::Status NoteMatchedLookup(const SubjectHandle& handle, std::string_view org);
  // True if this node answered `org`'s lookup on the child with a match
  // within the last kNoticeWindow and no notice followed that lookup yet.
  bool NoticeDue(const SubjectHandle& handle, std::string_view org) const;
  // Keeps `notice` from `org` in the inbox only if this node answered `org`'s
  // lookup on the child with a match within the last kNoticeWindow and no
  // other notice followed that lookup: one notice per matched lookup, so a
  // sender cannot fill an inbox after one match. The same notice again (a
  // retry) changes nothing. OK whether or not it was kept (no oracle).
  [[nodiscard]] absl::Status PutNoticeAfterLookup(const SubjectHandle& handle, std::string_view org,
                                                  const v1::MatchNotice& notice);

  // Adds or replaces (same notice id) a notice in the inbox, until its expires_at_ms.
  [[nodiscard]] absl::Status PutNotice(const SubjectHandle& handle, const v1::MatchNotice& notice);
  // Marks a sent notice refused by its recipient, if it is still in the inbox.
  [[nodiscard]] absl::Status MarkRefused(const SubjectHandle& handle, std::string_view notice_id);
  // Marks a sent notice delivered, if it is still in the inbox.
  [[nodiscard]] absl::Status MarkDelivered(const SubjectHandle& handle, std::string_view notice_id);
  [[nodiscard]] absl::StatusOr<std::vector<v1::MatchNotice>> Inbox() const;

  [[nodiscard]] absl::StatusOr<std::vector<v1::PendingNotice>> Outbox() const;
  [[nodiscard]] absl::Status Dequeue(std::string_view notice_id);
  // True if the notice is (still) in the outbox.
  bool StillPending(std::string_view notice_id) const;

  // Writes the notices of one registration at once: the sender's inbox
  // entries and the outbox entries to deliver.
  [[nodiscard]] absl::Status Announce(const SubjectHandle& handle, std::span<const v1::MatchNotice> inbox,
                                      std::span<const v1::PendingNotice> outbox);
  // Removes a notice from the inbox (the other side kept nothing).
  [[nodiscard]] absl::Status DeleteNotice(const SubjectHandle& handle, std::string_view notice_id);

  // A fresh random id: 32 hex digits.
  static std::string NewId();
  // What a signal shows of itself on a match, as `self`'s.
  static v1::SignalMatch MatchOf(const v1::SignalRecord& signal, const network::ManifestNode& self);

 private:
  [[nodiscard]] absl::Status Mark(const SubjectHandle& handle, std::string_view notice_id,
                                  const std::function<void(v1::MatchNotice&)>& change);

  store::Store& store_;
  const store::KeyStore& keys_;
  const Clock clock_;
  std::mutex notice_mu_;  // serialises PutNoticeAfterLookup: one notice per lookup
};

}  // namespace casenode::node
