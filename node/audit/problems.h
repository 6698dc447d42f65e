// The problems an audit report lists: at most kMaxProblems (a hostile node
// could make millions), the rest counted in one last PROBLEMS_TRUNCATED.
#pragma once

#include <string>

#include "casenode/v1/local.pb.h"

namespace casenode::node {

inline constexpr int kMaxProblems = 1000;

void AddProblem(v1::AuditVerifyReport& report, v1::AuditProblem::Kind kind, uint64_t seq, std::string detail);

}  // namespace casenode::node
