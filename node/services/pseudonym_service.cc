#include "node/services/pseudonym_service.h"

#include "base/reason.h"
#include "base/strings.h"
#include "node/rpc/context.h"
#include "node/rpc/status.h"

namespace casenode::node {

grpc::Status PseudonymService::Derive(grpc::ServerContext* context, const v1::DerivePseudonymRequest* request,
                                      v1::DerivePseudonymResponse* response) {
  // Every field first: a bad one makes no network call.
  if (auto bad = edge::Check(*request, known_()); !bad.ok()) return ToGrpcStatus(bad);
  auto bsn = ParseBsn(request->bsn());
  if (!bsn.ok()) return ToGrpcStatus(Annotate("bsn", bsn.status()));
  auto derived =
      deriver_.Derive(*bsn, request->purpose(), request->legal_basis(), TraceIdOf(*context), NestedDeadline(*context));
  if (!derived.ok()) return ToGrpcStatus(derived.status());
  response->set_pseudonym(std::string(derived->pseudonym.begin(), derived->pseudonym.end()));
  for (const HolderOutcome& h : derived->holders) {
    v1::PseudonymHolderOutcome* out = response->add_holders();
    out->set_org(h.org);
    out->set_index(h.index);
    out->set_used(h.status.ok());
    if (!h.status.ok()) {
      const Reason reason = ReasonOf(h.status);
      out->set_error(StrCat(reason == Reason::kNone ? absl::StatusCodeToString(h.status.code()) : ReasonName(reason),
                            ": ", std::string_view(h.status.message().data(), h.status.message().size())));
    }
  }
  return grpc::Status::OK;
}

}  // namespace casenode::node
