// LocalCases: staff convene, answer, contribute, read, agree and close cases
// (node/cases/desk.h).
#pragma once

#include "casenode/v1/local.grpc.pb.h"
#include "node/cases/desk.h"
#include "node/edge/requests.h"

namespace casenode::node {

class CaseService final : public v1::LocalCases::Service {
 public:
  CaseService(CaseDesk& desk, edge::KnownFn known) : desk_(desk), known_(std::move(known)) {}

  grpc::Status Convene(grpc::ServerContext*, const v1::ConveneCaseRequest*, v1::ConveneCaseResponse*) override;
  grpc::Status List(grpc::ServerContext*, const v1::ListCasesRequest*, v1::ListCasesResponse*) override;
  grpc::Status Answer(grpc::ServerContext*, const v1::AnswerCaseRequest*, v1::AnswerCaseResponse*) override;
  grpc::Status Contribute(grpc::ServerContext*, const v1::ContributeCaseRequest*, v1::ContributeCaseResponse*) override;
  grpc::Status Show(grpc::ServerContext*, const v1::ShowCaseRequest*, v1::CaseView*) override;
  grpc::Status SetAction(grpc::ServerContext*, const v1::SetActionRequest*, v1::CaseActionView*) override;
  grpc::Status Close(grpc::ServerContext*, const v1::CloseCaseLocalRequest*, v1::CloseCaseLocalResponse*) override;

 private:
  CaseDesk& desk_;
  const edge::KnownFn known_;
};

}  // namespace casenode::node
