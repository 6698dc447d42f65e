#include "node/cases/case_book.h"

#include <sodium.h>

#include <algorithm>
#include <tuple>

#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "base/log.h"
#include "base/reason.h"
#include "base/status.h"
#include "base/strings.h"

namespace casenode::node {
namespace {

constexpr char kIndex = 'X';
constexpr char kSecrets = 'C';
constexpr char kContribution = 'B';
constexpr char kAction = 'A';
constexpr char kOrder = 'O';

std::string Key(char kind, std::string_view id, std::string_view item = {}) {
  std::string key(1, kind);
  key.append(id);
  key.append(item);
  return key;
}

const keys::DataKeyRef kNodeKey{keys::DataKeyKind::kNode, {}};

// `org`'s share entry in `index`, added if it has none.
v1::CaseIndex::Share& ShareOf(v1::CaseIndex& index, std::string_view org) {
  for (auto& s : *index.mutable_shares()) {
    if (s.org() == org) return s;
  }
  v1::CaseIndex::Share& s = *index.add_shares();
  s.set_org(std::string(org));
  return s;
}

// Counts one more item of `bytes` for `org` (a contribution, or an agreement
// it added), or CASE_SHARE_EXHAUSTED naming which part of its share is used
// up. The counts are the member's own: the others' shares are untouched.
// The convener has none: it holds the case (and could write its own store
// anyway), and the regisseur gives the agreements of every member.
absl::Status Count(v1::CaseIndex& index, std::string_view org, bool contribution, size_t bytes,
                   const policy::CaseSettings& shares) {
  if (org == index.convener_org()) return absl::OkStatus();
  v1::CaseIndex::Share& s = ShareOf(index, org);
  const uint64_t items = contribution ? s.contributions() : s.agreements();
  const uint64_t max_items = contribution ? shares.member_contributions : shares.member_agreements;
  if (items >= max_items) {
    return Error(Reason::kCaseShareExhausted,
                 StrCat("case: this organisation has added its share of ", max_items,
                        contribution ? " contributions" : " agreements", " to this case"));
  }
  if (s.bytes() + bytes > shares.member_bytes) {
    return Error(Reason::kCaseShareExhausted,
                 StrCat("case: this organisation has used its share of ", shares.member_bytes, " bytes in this case"));
  }
  contribution ? s.set_contributions(s.contributions() + 1) : s.set_agreements(s.agreements() + 1);
  s.set_bytes(s.bytes() + bytes);
  return absl::OkStatus();
}

template <typename Message>
absl::StatusOr<Message> Parse(const absl::StatusOr<std::string>& value, std::string_view what) {
  if (!value.ok()) return value.status();
  Message m;
  if (!m.ParseFromString(*value)) return Error(Reason::kRecordCorrupt, StrCat("cases: a ", what, " does not parse"));
  return m;
}

// Every record under `prefix`. One that fails to open or parse fails the
// scan, unless `skip_bad`: then it is left out and logged by its key's kind
// and case id (never content), so one bad record cannot stop every other
// case's destruction (and one shredded meanwhile is left out silently).
template <typename Message>
absl::StatusOr<std::vector<Message>> ScanAll(const store::Store& store, std::string_view prefix,
                                             std::string_view what, bool skip_bad = false) {
  std::vector<Message> out;
  absl::Status failed;
  RETURN_IF_ERROR(
      store.Scan(store::Family::kCases, prefix, [&](std::string_view key, const absl::StatusOr<std::string>& value) {
        if (!failed.ok()) return;
        if (skip_bad && !value.ok() && ReasonOf(value.status()) == Reason::kShredded) return;
        auto m = Parse<Message>(value, what);
        if (m.ok()) {
          out.push_back(*std::move(m));
        } else if (skip_bad) {
          Log(LogLevel::kError, "case.record_unreadable",
              {{"what", what}, {"case_id", key.substr(1, 32)}, {"reason", ReasonName(ReasonOf(m.status()))}});
        } else {
          failed = m.status();
        }
      }));
  RETURN_IF_ERROR(failed);
  return out;
}

}  // namespace

CaseBook::CaseBook(store::Store& store, Clock clock) : store_(store), clock_(std::move(clock)) {}

std::string CaseBook::NewId() {
  uint8_t raw[16];
  randombytes_buf(raw, sizeof raw);
  return HexEncode(raw);
}

absl::Status CaseBook::CheckId(std::string_view id, std::string_view field) {
  if (!IsLowerHex(id, 32)) return Error(Reason::kMalformedRequest, StrCat(field, ": expected 32 lowercase hex digits"));
  return absl::OkStatus();
}

keys::DataKeyRef CaseBook::DataKeyOf(std::string_view case_id) {
  // The id's 16 bytes, then zeros: one data key per case, named by nothing else.
  keys::DataKeyRef ref{keys::DataKeyKind::kCase, {}};
  auto raw = HexDecode(case_id, "case id");
  if (raw.ok()) std::copy_n(raw->begin(), std::min(raw->size(), ref.id.size()), ref.id.begin());
  return ref;
}

store::Record CaseBook::IndexRecord(const v1::CaseIndex& index) const {
  return {store::Family::kCases, Key(kIndex, index.case_id()), kNodeKey, index.SerializeAsString(), std::nullopt};
}

store::Record CaseBook::OrderRecord(const v1::CaseOrder& order) {
  // An invitation carries the child's pseudonym and the receipts: it goes
  // with the case's key. A destruction order must outlive that key.
  const keys::DataKeyRef key =
      order.kind() == v1::CaseOrder::INVITE ? DataKeyOf(order.case_id()) : kNodeKey;
  return {store::Family::kCases, Key(kOrder, order.case_id(), order.order_id()), key, order.SerializeAsString(),
          std::nullopt};
}

absl::StatusOr<v1::CaseIndex> CaseBook::Index(std::string_view case_id) const {
  RETURN_IF_ERROR(CheckId(case_id, "case id"));
  return Parse<v1::CaseIndex>(store_.Get(store::Family::kCases, Key(kIndex, case_id)), "case index");
}

absl::StatusOr<v1::CaseSecrets> CaseBook::Secrets(std::string_view case_id) const {
  RETURN_IF_ERROR(CheckId(case_id, "case id"));
  return Parse<v1::CaseSecrets>(store_.Get(store::Family::kCases, Key(kSecrets, case_id)), "case");
}

absl::StatusOr<std::vector<v1::CaseIndex>> CaseBook::List() const {
  return ScanAll<v1::CaseIndex>(store_, std::string(1, kIndex), "case index", /*skip_bad=*/true);
}

absl::Status CaseBook::Create(const v1::CaseIndex& index, const v1::CaseSecrets& secrets,
                              std::span<const v1::CaseOrder> orders) {
  RETURN_IF_ERROR(CheckId(index.case_id(), "case id"));
  std::lock_guard lock(mu_);
  if (store_.Get(store::Family::kCases, Key(kIndex, index.case_id())).ok()) {
    return absl::AlreadyExistsError("case id: already known here");
  }
  std::vector<store::Record> records = {
      IndexRecord(index),
      {store::Family::kCases, Key(kSecrets, index.case_id()), DataKeyOf(index.case_id()), secrets.SerializeAsString(),
       std::nullopt}};
  for (const auto& o : orders) records.push_back(OrderRecord(o));
  return store_.Write(records);
}

absl::Status CaseBook::ChangeLocked(std::string_view case_id,
                                    const std::function<absl::Status(v1::CaseIndex&)>& change,
                                    std::span<const v1::CaseOrder> orders) {
  ASSIGN_OR_RETURN(v1::CaseIndex index, Index(case_id));
  RETURN_IF_ERROR(change(index));
  std::vector<store::Record> records;
  for (const auto& o : orders) records.push_back(OrderRecord(o));
  records.push_back(IndexRecord(index));
  return store_.Write(records);
}

absl::Status CaseBook::Change(std::string_view case_id, const std::function<absl::Status(v1::CaseIndex&)>& change,
                              std::span<const v1::CaseOrder> orders) {
  std::lock_guard lock(mu_);
  return ChangeLocked(case_id, change, orders);
}

absl::StatusOr<v1::CaseIndex> CaseBook::OpenIndexLocked(std::string_view case_id) const {
  ASSIGN_OR_RETURN(v1::CaseIndex index, Index(case_id));
  if (index.state() != v1::CASE_OPEN) return Error(Reason::kCaseNotActive, "case: not open (closed or destroyed)");
  return index;
}

absl::Status CaseBook::PutContribution(std::string_view case_id, const v1::CaseContribution& contribution,
                                       const policy::CaseSettings& shares, v1::CaseContribution* stored) {
  const std::string key = Key(kContribution, case_id, contribution.contribution_id());
  std::lock_guard lock(mu_);  // one writer per id: a retried contribution never replaces the first
  absl::StatusOr<std::string> existing = store_.Get(store::Family::kCases, key);
  if (existing.ok()) {
    ASSIGN_OR_RETURN(*stored, Parse<v1::CaseContribution>(existing, "contribution"));
    return absl::OkStatus();
  }
  if (!absl::IsNotFound(existing.status()) || ReasonOf(existing.status()) == Reason::kShredded) {
    return existing.status();
  }
  ASSIGN_OR_RETURN(v1::CaseIndex index, OpenIndexLocked(case_id));
  *stored = contribution;
  stored->set_time_ms(std::max(contribution.time_ms(), index.last_contribution_ms() + 1));
  RETURN_IF_ERROR(Count(index, stored->author_org(), /*contribution=*/true, stored->ByteSizeLong(), shares));
  index.set_contributions(index.contributions() + 1);
  index.set_last_contribution_ms(stored->time_ms());
  const store::Record records[] = {
      {store::Family::kCases, key, DataKeyOf(case_id), stored->SerializeAsString(), std::nullopt},
      IndexRecord(index)};
  return store_.Write(records);
}

absl::StatusOr<std::vector<v1::CaseContribution>> CaseBook::Contributions(std::string_view case_id) const {
  ASSIGN_OR_RETURN(auto all, ScanAll<v1::CaseContribution>(store_, Key(kContribution, case_id), "contribution"));
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return std::make_tuple(a.time_ms(), a.contribution_id()) < std::make_tuple(b.time_ms(), b.contribution_id());
  });
  return all;
}

absl::StatusOr<v1::CaseAction> CaseBook::SetAction(std::string_view case_id, std::string_view action_id,
                                                   const policy::CaseSettings& shares, const ActionChange& change) {
  const std::string key = Key(kAction, case_id, action_id);
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(v1::CaseIndex index, OpenIndexLocked(case_id));
  std::optional<v1::CaseAction> existing;
  absl::StatusOr<std::string> value = store_.Get(store::Family::kCases, key);
  if (value.ok()) {
    ASSIGN_OR_RETURN(existing, Parse<v1::CaseAction>(value, "agreement"));
  } else if (!absl::IsNotFound(value.status()) || ReasonOf(value.status()) == Reason::kShredded) {
    return value.status();
  }
  const bool adding = !existing;
  ASSIGN_OR_RETURN(v1::CaseAction kept, change(std::move(existing)));
  std::vector<store::Record> records = {
      {store::Family::kCases, key, DataKeyOf(case_id), kept.SerializeAsString(), std::nullopt}};
  if (adding) {
    RETURN_IF_ERROR(Count(index, kept.added_by_org(), /*contribution=*/false, kept.ByteSizeLong(), shares));
    records.push_back(IndexRecord(index));
  }
  RETURN_IF_ERROR(store_.Write(records));
  return kept;
}

absl::StatusOr<std::vector<v1::CaseAction>> CaseBook::Actions(std::string_view case_id) const {
  // The store's key order is id order.
  return ScanAll<v1::CaseAction>(store_, Key(kAction, case_id), "agreement");
}

absl::StatusOr<std::vector<v1::CaseOrder>> CaseBook::Orders() const {
  return ScanAll<v1::CaseOrder>(store_, std::string(1, kOrder), "case order", /*skip_bad=*/true);
}

absl::Status CaseBook::DoneWith(const v1::CaseOrder& order) {
  return store_.Delete(store::Family::kCases, Key(kOrder, order.case_id(), order.order_id()));
}

absl::Status CaseBook::Destroy(std::string_view case_id, const std::function<absl::Status(v1::CaseIndex&)>& mark,
                               std::span<const v1::CaseOrder> orders) {
  RETURN_IF_ERROR(CheckId(case_id, "case id"));
  {
    // The shred is what destroys: once it returns, nothing under the case's
    // key opens again, here or in a backup. Under the lock with the index
    // change, so no contribution or agreement is written under the key from
    // then on (a write after a shred would get a fresh key).
    std::lock_guard lock(mu_);
    RETURN_IF_ERROR(store_.Shred(DataKeyOf(case_id)));
    RETURN_IF_ERROR(ChangeLocked(case_id, mark, orders));
  }
  // Deleting the records only frees space, so it waits for no one (a crash
  // before it leaves records that read as SHREDDED; Sweep drops them).
  std::vector<std::string> keys;
  for (char kind : {kContribution, kAction, kOrder}) {
    RETURN_IF_ERROR(store_.Scan(store::Family::kCases, Key(kind, case_id),
                                [&](std::string_view key, const absl::StatusOr<std::string>& value) {
                                  // Destruction orders (node key) stay; what the shred covered goes.
                                  if (kind != kOrder || ReasonOf(value.status()) == Reason::kShredded) {
                                    keys.emplace_back(key);
                                  }
                                }));
  }
  keys.push_back(Key(kSecrets, case_id));
  for (const auto& k : keys) RETURN_IF_ERROR(store_.Delete(store::Family::kCases, k));
  return absl::OkStatus();
}

v1::CaseIndex::Member* FindMember(v1::CaseIndex& index, std::string_view org) {
  for (auto& m : *index.mutable_members()) {
    if (m.org() == org) return &m;
  }
  return nullptr;
}

}  // namespace casenode::node
