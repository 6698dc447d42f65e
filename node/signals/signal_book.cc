#include "node/signals/signal_book.h"

#include <sodium.h>

#include <algorithm>

#include "base/encoding.h"
#include "base/reason.h"
#include "base/status.h"
#include "base/strings.h"

namespace casenode::node {
namespace {

constexpr char kSignal = 'S';
constexpr char kWithdrawIndex = 'W';
constexpr char kInbox = 'I';
constexpr char kOutbox = 'O';
constexpr char kMatchedLookup = 'L';

std::string Key(char kind, std::span<const uint8_t> a, std::string_view id = {}) {
  std::string key(1, kind);
  key.append(reinterpret_cast<const char*>(a.data()), a.size());
  key.append(id);
  return key;
}

int64_t Ms(SystemTime t) { return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count(); }

keys::DataKeyRef SubjectKey(const SubjectHandle& h) { return {keys::DataKeyKind::kSubject, h}; }

SubjectHandle AsBytesArray(std::string_view bytes) {
  SubjectHandle h{};
  std::copy_n(bytes.begin(), std::min(bytes.size(), h.size()), h.begin());
  return h;
}

std::optional<SystemTime> Expiry(int64_t ms) {
  if (ms <= 0) return std::nullopt;
  return SystemTime(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::milliseconds(ms)));
}

absl::Status CheckId(std::string_view id, std::string_view what) {
  if (!IsLowerHex(id, 32)) return Error(Reason::kMalformedRequest, StrCat(what, ": expected 32 lowercase hex digits"));
  return absl::OkStatus();
}

// Parses every value of a scan; a record that fails to open fails the scan
// (it is reported, never skipped silently), except one shredded meanwhile.
template <typename Message>
absl::StatusOr<std::vector<Message>> ScanAll(const store::Store& store, std::string_view prefix) {
  std::vector<Message> out;
  absl::Status failed;
  RETURN_IF_ERROR(
      store.Scan(store::Family::kSignals, prefix, [&](std::string_view, const absl::StatusOr<std::string>& value) {
        if (!value.ok()) {
          if (ReasonOf(value.status()) != Reason::kShredded && failed.ok()) {
            failed = value.status();
          }
          return;
        }
        Message m;
        if (!m.ParseFromString(*value) && failed.ok()) {
          failed = Error(Reason::kRecordCorrupt, "signals: a record does not parse");
        }
        out.push_back(std::move(m));
      }));
  RETURN_IF_ERROR(failed);
  return out;
}

}  // namespace

SignalBook::SignalBook(store::Store& store, const store::KeyStore& keys, Clock clock)
    : store_(store), keys_(keys), clock_(std::move(clock)) {}

SubjectHandle SignalBook::HandleOf(std::span<const uint8_t> pseudonym) const { return keys_.SubjectHandle(pseudonym); }

std::string SignalBook::NewId() {
  uint8_t raw[16];
  randombytes_buf(raw, sizeof raw);
  return HexEncode(raw);
}

absl::StatusOr<v1::SignalRecord> SignalBook::Register(std::span<const uint8_t> pseudonym, const SignalDraft& draft,
                                                      std::chrono::seconds retention) {
  const SubjectHandle handle = HandleOf(pseudonym);
  const SystemTime now = clock_();
  const SystemTime expires = now + retention;
  v1::SignalRecord signal;
  signal.set_signal_id(NewId());
  signal.set_purpose(draft.purpose);
  signal.set_category(draft.category);
  signal.set_contact(draft.contact);
  signal.set_registered_at_ms(Ms(now));
  signal.set_expires_at_ms(Ms(expires));
  const store::Record records[] = {
      {store::Family::kSignals, Key(kSignal, handle, signal.signal_id()), SubjectKey(handle),
       signal.SerializeAsString(), expires},
      {store::Family::kSignals, Key(kWithdrawIndex, AsBytes(signal.signal_id())),
       keys::DataKeyRef{keys::DataKeyKind::kNode, {}}, std::string(handle.begin(), handle.end()), expires},
  };
  RETURN_IF_ERROR(store_.Write(records));
  return signal;
}

absl::Status SignalBook::Withdraw(std::string_view signal_id) {
  RETURN_IF_ERROR(CheckId(signal_id, "signal id"));
  const std::string index_key = Key(kWithdrawIndex, AsBytes(signal_id));
  auto handle = store_.Get(store::Family::kSignals, index_key);
  if (!handle.ok() || handle->size() != 32) {
    if (handle.ok() || handle.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError(StrCat("signal ", signal_id, ": no such signal here (withdrawn or expired?)"));
    }
    return handle.status();
  }
  // The signal first: from this delete on it matches nothing.
  RETURN_IF_ERROR(store_.Delete(store::Family::kSignals, Key(kSignal, AsBytes(*handle), signal_id)));
  RETURN_IF_ERROR(store_.Delete(store::Family::kSignals, index_key));
  // Notices not yet delivered would announce a signal that is gone.
  ASSIGN_OR_RETURN(std::vector<v1::PendingNotice> pending, Outbox());
  for (const v1::PendingNotice& p : pending) {
    if (p.signal_id() != signal_id) continue;
    RETURN_IF_ERROR(Dequeue(p.notice_id()));
    RETURN_IF_ERROR(DeleteNotice(AsBytesArray(*handle), p.notice_id()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::SignalRecord>> SignalBook::List() const {
  return ScanAll<v1::SignalRecord>(store_, std::string(1, kSignal));
}

absl::StatusOr<std::vector<v1::SignalRecord>> SignalBook::On(std::span<const uint8_t> pseudonym) const {
  return ScanAll<v1::SignalRecord>(store_, Key(kSignal, HandleOf(pseudonym)));
}

absl::Status SignalBook::NoteMatchedLookup(const SubjectHandle& handle, std::string_view org) {
  const SystemTime until = std::chrono::time_point_cast<std::chrono::seconds>(clock_() + kNoticeWindow);
  return store_.Put({store::Family::kSignals, Key(kMatchedLookup, handle, org), SubjectKey(handle),
                     std::to_string(Ms(clock_())), until},
                    store::Durability::kBuffered);
}

namespace {
// The lookup's record holds its time until a notice uses it, then that notice's id.
constexpr std::string_view kUsedBy = "notice ";
}  // namespace

bool SignalBook::NoticeDue(const SubjectHandle& handle, std::string_view org) const {
  absl::StatusOr<std::string> lookup = store_.Get(store::Family::kSignals, Key(kMatchedLookup, handle, org));
  return lookup.ok() && !lookup->starts_with(kUsedBy);
}

absl::Status SignalBook::PutNoticeAfterLookup(const SubjectHandle& handle, std::string_view org,
                                              const v1::MatchNotice& notice) {
  RETURN_IF_ERROR(CheckId(notice.notice_id(), "notice id"));
  const std::string lookup_key = Key(kMatchedLookup, handle, org);
  const std::string used = StrCat(kUsedBy, notice.notice_id());
  std::lock_guard lock(notice_mu_);
  absl::StatusOr<std::string> lookup = store_.Get(store::Family::kSignals, lookup_key);
  if (absl::IsNotFound(lookup.status())) return absl::OkStatus();  // no matched lookup (or it expired)
  RETURN_IF_ERROR(lookup.status());
  if (lookup->starts_with(kUsedBy)) return absl::OkStatus();  // used, by this notice or another
  const store::Record records[] = {
      {store::Family::kSignals, Key(kInbox, handle, notice.notice_id()), SubjectKey(handle),
       notice.SerializeAsString(), Expiry(notice.expires_at_ms())},
      {store::Family::kSignals, lookup_key, SubjectKey(handle), used,
       std::chrono::time_point_cast<std::chrono::seconds>(clock_() + kNoticeWindow)}};
  return store_.Write(records);
}

absl::Status SignalBook::PutNotice(const SubjectHandle& handle, const v1::MatchNotice& notice) {
  RETURN_IF_ERROR(CheckId(notice.notice_id(), "notice id"));
  return store_.Put({store::Family::kSignals, Key(kInbox, handle, notice.notice_id()), SubjectKey(handle),
                     notice.SerializeAsString(), Expiry(notice.expires_at_ms())});
}

absl::Status SignalBook::MarkRefused(const SubjectHandle& handle, std::string_view notice_id) {
  return Mark(handle, notice_id, [](v1::MatchNotice& n) { n.set_refused(true); });
}

absl::Status SignalBook::MarkDelivered(const SubjectHandle& handle, std::string_view notice_id) {
  return Mark(handle, notice_id, [](v1::MatchNotice& n) { n.set_delivered(true); });
}

absl::Status SignalBook::Mark(const SubjectHandle& handle, std::string_view notice_id,
                              const std::function<void(v1::MatchNotice&)>& change) {
  const std::string key = Key(kInbox, handle, notice_id);
  auto value = store_.Get(store::Family::kSignals, key);
  if (!value.ok()) return value.status().code() == absl::StatusCode::kNotFound ? absl::OkStatus() : value.status();
  v1::MatchNotice notice;
  if (!notice.ParseFromString(*value)) return Error(Reason::kRecordCorrupt, "signals: an inbox record does not parse");
  change(notice);
  return PutNotice(handle, notice);
}

absl::StatusOr<std::vector<v1::MatchNotice>> SignalBook::Inbox() const {
  auto notices = ScanAll<v1::MatchNotice>(store_, std::string(1, kInbox));
  if (notices.ok()) {
    std::sort(notices->begin(), notices->end(),
              [](const v1::MatchNotice& a, const v1::MatchNotice& b) { return a.time_ms() < b.time_ms(); });
  }
  return notices;
}

absl::Status SignalBook::Announce(const SubjectHandle& handle, std::span<const v1::MatchNotice> inbox,
                                  std::span<const v1::PendingNotice> outbox) {
  std::vector<store::Record> records;
  for (const v1::MatchNotice& n : inbox) {
    RETURN_IF_ERROR(CheckId(n.notice_id(), "notice id"));
    records.push_back({store::Family::kSignals, Key(kInbox, handle, n.notice_id()), SubjectKey(handle),
                       n.SerializeAsString(), Expiry(n.expires_at_ms())});
  }
  for (const v1::PendingNotice& p : outbox) {
    RETURN_IF_ERROR(CheckId(p.notice_id(), "notice id"));
    records.push_back({store::Family::kSignals, Key(kOutbox, AsBytes(p.notice_id())), SubjectKey(handle),
                       p.SerializeAsString(), Expiry(p.expires_at_ms())});
  }
  if (records.empty()) return absl::OkStatus();
  return store_.Write(records);
}

absl::Status SignalBook::DeleteNotice(const SubjectHandle& handle, std::string_view notice_id) {
  return store_.Delete(store::Family::kSignals, Key(kInbox, handle, notice_id));
}

v1::SignalMatch SignalBook::MatchOf(const v1::SignalRecord& signal, const network::ManifestNode& self) {
  v1::SignalMatch m;
  m.set_org(self.org);
  m.set_role(self.role);
  m.set_contact(signal.contact());
  m.set_category(signal.category());
  m.set_since_ms(signal.registered_at_ms());
  return m;
}

absl::StatusOr<std::vector<v1::PendingNotice>> SignalBook::Outbox() const {
  return ScanAll<v1::PendingNotice>(store_, std::string(1, kOutbox));
}

bool SignalBook::StillPending(std::string_view notice_id) const {
  return store_.Get(store::Family::kSignals, Key(kOutbox, AsBytes(notice_id))).ok();
}

absl::Status SignalBook::Dequeue(std::string_view notice_id) {
  return store_.Delete(store::Family::kSignals, Key(kOutbox, AsBytes(notice_id)));
}

}  // namespace casenode::node
