// Reason codes on absl::Status.
//
// Every error a caller may act on carries a stable UPPER_SNAKE reason code
// (e.g. PEER_NOT_IN_MANIFEST) besides its canonical code. It travels as a
// status payload inside the process and as an ErrorInfo detail over gRPC.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace casenode {

inline constexpr char kReasonPayloadUrl[] = "type.googleapis.com/casenode.v1.ErrorInfo.reason";

// Returns `status` with `reason` attached (no-op on OK).
absl::Status WithReason(absl::Status status, std::string_view reason);
// The attached reason, or "" if none.
std::string ReasonOf(const absl::Status& status);

}  // namespace casenode
