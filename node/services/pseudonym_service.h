// LocalPseudonyms: staff derive a child's network pseudonym from a BSN.
#pragma once

#include "casenode/v1/local.grpc.pb.h"
#include "node/edge/requests.h"
#include "node/pseudonym/deriver.h"

namespace casenode::node {

class PseudonymService final : public v1::LocalPseudonyms::Service {
 public:
  PseudonymService(PseudonymDeriver& deriver, edge::KnownFn known) : deriver_(deriver), known_(std::move(known)) {}

  grpc::Status Derive(grpc::ServerContext* context, const v1::DerivePseudonymRequest* request,
                      v1::DerivePseudonymResponse* response) override;

 private:
  PseudonymDeriver& deriver_;
  const edge::KnownFn known_;
};

}  // namespace casenode::node
