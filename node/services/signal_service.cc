#include "node/services/signal_service.h"

#include "base/bsn.h"
#include "base/reason.h"
#include "base/strings.h"
#include "node/rpc/context.h"
#include "node/rpc/status.h"

namespace casenode::node {

grpc::Status SignalService::Register(grpc::ServerContext* context, const v1::RegisterSignalRequest* request,
                                     v1::RegisterSignalResponse* response) {
  if (auto bad = edge::Check(*request, known_()); !bad.ok()) return ToGrpcStatus(bad);
  auto bsn = ParseBsn(request->bsn());
  if (!bsn.ok()) return ToGrpcStatus(Annotate("bsn", bsn.status()));
  auto registered = desk_.Register(*bsn, {request->purpose(), request->category(), request->contact()},
                                   request->legal_basis(), TraceIdOf(*context), NestedDeadline(*context));
  metrics_.SignalCheck(!registered.ok() ? "failed" : registered->check().status() == v1::CHECK_COMPLETE ? "complete" : "incomplete");
  if (!registered.ok()) return ToGrpcStatus(registered.status());
  *response = *std::move(registered);
  return grpc::Status::OK;
}

grpc::Status SignalService::Check(grpc::ServerContext* context, const v1::CheckSignalRequest* request,
                                  v1::SignalCheckResult* response) {
  if (auto bad = edge::Check(*request, known_()); !bad.ok()) return ToGrpcStatus(bad);
  auto bsn = ParseBsn(request->bsn());
  if (!bsn.ok()) return ToGrpcStatus(Annotate("bsn", bsn.status()));
  auto result =
      desk_.Check(*bsn, request->purpose(), request->legal_basis(), TraceIdOf(*context), NestedDeadline(*context));
  metrics_.SignalCheck(!result.ok() ? "failed" : result->status() == v1::CHECK_COMPLETE ? "complete" : "incomplete");
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

grpc::Status SignalService::Withdraw(grpc::ServerContext*, const v1::WithdrawSignalRequest* request,
                                     v1::WithdrawSignalResponse*) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  return ToGrpcStatus(book_.Withdraw(request->signal_id()));
}

grpc::Status SignalService::List(grpc::ServerContext*, const v1::ListSignalsRequest*,
                                 v1::ListSignalsResponse* response) {
  auto signals = book_.List();
  if (!signals.ok()) return ToGrpcStatus(signals.status());
  for (auto& s : *signals) *response->add_signals() = std::move(s);
  return grpc::Status::OK;
}

grpc::Status SignalService::Inbox(grpc::ServerContext*, const v1::InboxRequest*, v1::InboxResponse* response) {
  auto notices = book_.Inbox();
  if (!notices.ok()) return ToGrpcStatus(notices.status());
  for (auto& n : *notices) *response->add_notices() = std::move(n);
  return grpc::Status::OK;
}

}  // namespace casenode::node
