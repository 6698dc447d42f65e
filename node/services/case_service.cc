#include "node/services/case_service.h"

#include "node/rpc/context.h"
#include "node/rpc/status.h"

namespace casenode::node {
namespace {

template <typename T>
grpc::Status Reply(absl::StatusOr<T> result, T* response) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status CaseService::Convene(grpc::ServerContext* context, const v1::ConveneCaseRequest* request,
                                  v1::ConveneCaseResponse* response) {
  if (auto bad = edge::Check(*request, known_()); !bad.ok()) return ToGrpcStatus(bad);
  return Reply(desk_.Convene(*request, TraceIdOf(*context), NestedDeadline(*context)), response);
}

grpc::Status CaseService::List(grpc::ServerContext*, const v1::ListCasesRequest*, v1::ListCasesResponse* response) {
  return Reply(desk_.List(), response);
}

grpc::Status CaseService::Answer(grpc::ServerContext* context, const v1::AnswerCaseRequest* request,
                                 v1::AnswerCaseResponse*) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  return ToGrpcStatus(desk_.Answer(*request, TraceIdOf(*context), NestedDeadline(*context)));
}

grpc::Status CaseService::Contribute(grpc::ServerContext* context, const v1::ContributeCaseRequest* request,
                                     v1::ContributeCaseResponse* response) {
  if (auto bad = edge::Check(*request, known_()); !bad.ok()) return ToGrpcStatus(bad);
  return Reply(desk_.Contribute(*request, TraceIdOf(*context), NestedDeadline(*context)), response);
}

grpc::Status CaseService::Show(grpc::ServerContext* context, const v1::ShowCaseRequest* request,
                               v1::CaseView* response) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  return Reply(desk_.Show(*request, TraceIdOf(*context), NestedDeadline(*context)), response);
}

grpc::Status CaseService::SetAction(grpc::ServerContext* context, const v1::SetActionRequest* request,
                                    v1::CaseActionView* response) {
  if (auto bad = edge::Check(*request, known_()); !bad.ok()) return ToGrpcStatus(bad);
  return Reply(desk_.SetAction(*request, TraceIdOf(*context), NestedDeadline(*context)), response);
}

grpc::Status CaseService::Close(grpc::ServerContext* context, const v1::CloseCaseLocalRequest* request,
                                v1::CloseCaseLocalResponse* response) {
  if (auto bad = edge::Check(*request); !bad.ok()) return ToGrpcStatus(bad);
  return Reply(desk_.Close(*request, TraceIdOf(*context), NestedDeadline(*context)), response);
}

}  // namespace casenode::node
