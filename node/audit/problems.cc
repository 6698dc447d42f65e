#include "node/audit/problems.h"

#include "base/strings.h"

namespace casenode::node {

void AddProblem(v1::AuditVerifyReport& report, v1::AuditProblem::Kind kind, uint64_t seq, std::string detail) {
  if (report.problems_size() > kMaxProblems) {  // the last one counts the rest (in its seq)
    v1::AuditProblem* last = report.mutable_problems(kMaxProblems);
    last->set_seq(last->seq() + 1);
    last->set_detail(StrCat(last->seq(), " more problems not listed"));
    return;
  }
  v1::AuditProblem* p = report.add_problems();
  p->set_kind(kind);
  if (report.problems_size() > kMaxProblems) {
    p->set_kind(v1::AuditProblem::PROBLEMS_TRUNCATED);
    p->set_seq(1);
    p->set_detail("1 more problem not listed");
    return;
  }
  p->set_seq(seq);
  p->set_detail(std::move(detail));
}

}  // namespace casenode::node
