#include "base/reason.h"

#include "absl/strings/cord.h"

namespace casenode {
namespace {

struct Entry {
  Reason reason;
  std::string_view name;
  absl::StatusCode code;
};

constexpr Entry kTable[] = {
#define CASENODE_REASON_ENTRY_(e, v, name, code) {Reason::e, name, absl::StatusCode::code},
    CASENODE_REASONS(CASENODE_REASON_ENTRY_)
#undef CASENODE_REASON_ENTRY_
};

const Entry* Find(Reason r) {
  for (const Entry& e : kTable) {
    if (e.reason == r) return &e;
  }
  return nullptr;
}

absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace

std::string_view ReasonName(Reason reason) {
  const Entry* e = Find(reason);
  return e != nullptr ? e->name : std::string_view();
}

absl::StatusCode ReasonCode(Reason reason) {
  const Entry* e = Find(reason);
  return e != nullptr ? e->code : absl::StatusCode::kUnknown;
}

std::optional<Reason> ParseReason(std::string_view name) {
  for (const Entry& e : kTable) {
    if (e.name == name) return e.reason;
  }
  return std::nullopt;
}

absl::Status Error(Reason reason, std::string_view message) {
  absl::StatusCode code = ReasonCode(reason);
  if (code == absl::StatusCode::kOk) code = absl::StatusCode::kInternal;  // a bug: an "error" that allows
  return WithReason(absl::Status(code, Absl(message)), reason);
}

absl::Status WithReason(absl::Status status, Reason reason) {
  if (!status.ok() && reason != Reason::kNone) {
    status.SetPayload(kReasonPayloadUrl, absl::Cord(Absl(ReasonName(reason))));
  }
  return status;
}

Reason ReasonOf(const absl::Status& status) {
  auto payload = status.GetPayload(kReasonPayloadUrl);
  if (!payload.has_value()) return Reason::kNone;
  return ParseReason(std::string(*payload)).value_or(Reason::kNone);
}

absl::Status Annotate(std::string_view what, const absl::Status& status) {
  if (status.ok()) return status;
  std::string message(what);
  message += ": ";
  message.append(status.message().data(), status.message().size());
  absl::Status out(status.code(), message);
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) { out.SetPayload(url, payload); });
  return out;
}

}  // namespace casenode
