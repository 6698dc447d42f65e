#include "node/rpc/status.h"

#include "base/reason.h"
#include "casenode/v1/types.pb.h"

namespace casenode::node {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(status.code());
  const std::string message(status.message());
  const Reason reason = ReasonOf(status);
  if (reason == Reason::kNone) return grpc::Status(code, message);
  v1::Status details;
  details.set_code(static_cast<int>(code));
  details.set_message(message);
  v1::ErrorInfo info;
  info.set_reason(std::string(ReasonName(reason)));
  info.set_domain("casenode");
  details.add_details()->PackFrom(info);
  return grpc::Status(code, message, details.SerializeAsString());
}

Reason GrpcReason(const grpc::Status& status) {
  v1::Status details;
  if (status.error_details().empty() || !details.ParseFromString(status.error_details())) return Reason::kNone;
  for (const auto& any : details.details()) {
    v1::ErrorInfo info;
    if (any.UnpackTo(&info)) return ParseReason(info.reason()).value_or(Reason::kNone);
  }
  return Reason::kNone;
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status s(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  return WithReason(s, GrpcReason(status));
}

std::string GrpcCodeName(grpc::StatusCode code) {
  return std::string(absl::StatusCodeToString(static_cast<absl::StatusCode>(code)));
}

bool AnsweredByPolicy(const absl::Status& status) {
  switch (ReasonOf(status)) {
    case Reason::kNoMatchingRule:
    case Reason::kDeniedByRule:
    case Reason::kLegalBasisMissing:
    case Reason::kLegalBasisInsufficient:
    case Reason::kNotCaseMember:
    case Reason::kCaseNotActive:
    case Reason::kRetentionExpired:
    case Reason::kRateLimited:
    case Reason::kQuotaExhausted:
    case Reason::kSignalCategoryNotAllowed:
    case Reason::kUnknownRole:
    case Reason::kUnknownAction:
    case Reason::kUnknownPurpose:
    case Reason::kUnknownCategory:
    case Reason::kUnknownLegalBasis:
    case Reason::kConsentForged:
    case Reason::kConsentRevoked:
    case Reason::kConsentExpired:
    case Reason::kConsentAgeRule:
    case Reason::kConsentUnknownIssuer:
    case Reason::kConsentIssuerUnreachable:
    case Reason::kConsentOutOfScope:
    case Reason::kConsentMissing:
      return true;
    default:
      return false;
  }
}

}  // namespace casenode::node
