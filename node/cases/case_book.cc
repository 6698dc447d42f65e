#include "node/cases/case_book.h"

#include <sodium.h>

#include <algorithm>
#include <tuple>

#include "base/encoding.h"
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

template <typename Message>
absl::StatusOr<Message> Parse(const absl::StatusOr<std::string>& value, std::string_view what) {
  if (!value.ok()) return value.status();
  Message m;
  if (!m.ParseFromString(*value)) return Error(Reason::kRecordCorrupt, StrCat("cases: a ", what, " does not parse"));
  return m;
}

// Every record under `prefix`; one that fails to open fails the scan.
template <typename Message>
absl::StatusOr<std::vector<Message>> ScanAll(const store::Store& store, std::string_view prefix,
                                             std::string_view what) {
  std::vector<Message> out;
  absl::Status failed;
  RETURN_IF_ERROR(
      store.Scan(store::Family::kCases, prefix, [&](std::string_view, const absl::StatusOr<std::string>& value) {
        if (!failed.ok()) return;
        auto m = Parse<Message>(value, what);
        if (!m.ok()) {
          failed = m.status();
          return;
        }
        out.push_back(*std::move(m));
      }));
  RETURN_IF_ERROR(failed);
  return out;
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

}  // namespace

absl::Status CheckCaseName(std::string_view value, std::string_view field) {
  if (value.empty() || value.size() > 64 || !std::all_of(value.begin(), value.end(), IsNameChar)) {
    return Error(Reason::kMalformedRequest, StrCat(field, ": expected a name from the policy ([a-z0-9._-], 1-64)"));
  }
  return absl::OkStatus();
}

absl::Status CheckStaffId(std::string_view value, std::string_view field) {
  if (value.empty() || value.size() > 64 || !std::all_of(value.begin(), value.end(), IsNameChar)) {
    return Error(Reason::kMalformedRequest, StrCat(field, ": expected a pseudonymous staff id ([a-z0-9._-], 1-64)"));
  }
  return absl::OkStatus();
}

absl::Status CheckCaseText(std::string_view value, std::string_view field, size_t max_bytes) {
  if (value.empty() || value.size() > max_bytes) {
    return Error(Reason::kMalformedRequest, StrCat(field, ": required, at most ", max_bytes, " bytes"));
  }
  // Valid UTF-8 already: proto3 string fields refuse anything else when parsed.
  for (unsigned char c : value) {
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
      return Error(Reason::kMalformedRequest, StrCat(field, ": control characters are not allowed"));
    }
  }
  return absl::OkStatus();
}

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
  return {store::Family::kCases, Key(kOrder, order.order_id()), kNodeKey, order.SerializeAsString(), std::nullopt};
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
  return ScanAll<v1::CaseIndex>(store_, std::string(1, kIndex), "case index");
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

absl::Status CaseBook::Change(std::string_view case_id, const std::function<absl::Status(v1::CaseIndex&)>& change,
                              std::vector<store::Record> extra) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(v1::CaseIndex index, Index(case_id));
  RETURN_IF_ERROR(change(index));
  extra.push_back(IndexRecord(index));
  return store_.Write(extra);
}

absl::Status CaseBook::PutContribution(std::string_view case_id, const v1::CaseContribution& contribution,
                                       v1::CaseContribution* stored) {
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
  RETURN_IF_ERROR(
      store_.Put({store::Family::kCases, key, DataKeyOf(case_id), contribution.SerializeAsString(), std::nullopt}));
  *stored = contribution;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::CaseContribution>> CaseBook::Contributions(std::string_view case_id) const {
  ASSIGN_OR_RETURN(auto all, ScanAll<v1::CaseContribution>(store_, Key(kContribution, case_id), "contribution"));
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return std::make_tuple(a.time_ms(), a.contribution_id()) < std::make_tuple(b.time_ms(), b.contribution_id());
  });
  return all;
}

absl::Status CaseBook::PutAction(std::string_view case_id, const v1::CaseAction& action) {
  return store_.Put(
      {store::Family::kCases, Key(kAction, case_id, action.action_id()), DataKeyOf(case_id), action.SerializeAsString(),
       std::nullopt});
}

absl::StatusOr<std::optional<v1::CaseAction>> CaseBook::Action(std::string_view case_id,
                                                               std::string_view action_id) const {
  absl::StatusOr<std::string> value = store_.Get(store::Family::kCases, Key(kAction, case_id, action_id));
  if (absl::IsNotFound(value.status()) && ReasonOf(value.status()) != Reason::kShredded) return std::nullopt;
  ASSIGN_OR_RETURN(v1::CaseAction action, Parse<v1::CaseAction>(value, "agreement"));
  return action;
}

absl::StatusOr<std::vector<v1::CaseAction>> CaseBook::Actions(std::string_view case_id) const {
  ASSIGN_OR_RETURN(auto all, ScanAll<v1::CaseAction>(store_, Key(kAction, case_id), "agreement"));
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return std::make_tuple(a.due_ms(), a.action_id()) < std::make_tuple(b.due_ms(), b.action_id());
  });
  return all;
}

absl::StatusOr<std::vector<v1::CaseOrder>> CaseBook::Orders() const {
  return ScanAll<v1::CaseOrder>(store_, std::string(1, kOrder), "case order");
}

absl::Status CaseBook::DoneWith(std::string_view order_id) {
  return store_.Delete(store::Family::kCases, Key(kOrder, order_id));
}

absl::Status CaseBook::DeleteContent(std::string_view case_id) {
  std::vector<std::string> keys;
  for (char kind : {kContribution, kAction}) {
    RETURN_IF_ERROR(store_.Scan(store::Family::kCases, Key(kind, case_id),
                                [&](std::string_view key, const absl::StatusOr<std::string>&) {
                                  keys.emplace_back(key);
                                }));
  }
  keys.push_back(Key(kSecrets, case_id));
  for (const auto& k : keys) RETURN_IF_ERROR(store_.Delete(store::Family::kCases, k));
  return absl::OkStatus();
}

absl::Status CaseBook::Destroy(std::string_view case_id, const std::function<absl::Status(v1::CaseIndex&)>& mark,
                               std::vector<store::Record> orders) {
  RETURN_IF_ERROR(CheckId(case_id, "case id"));
  // The shred is what destroys: once it returns, nothing under the case's key
  // opens again, here or in a backup. Deleting the records only frees space
  // (a crash in between leaves records that read as SHREDDED; Sweep drops them).
  RETURN_IF_ERROR(store_.Shred(DataKeyOf(case_id)));
  RETURN_IF_ERROR(DeleteContent(case_id));
  return Change(case_id, mark, std::move(orders));
}

}  // namespace casenode::node
