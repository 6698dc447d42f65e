// LocalPseudonyms: staff derive a child's network pseudonym from a BSN.
#pragma once

#include "casenode/v1/local.grpc.pb.h"
#include "node/pseudonym/deriver.h"

namespace casenode::node {

class PseudonymService final : public v1::LocalPseudonyms::Service {
 public:
  explicit PseudonymService(PseudonymDeriver& deriver) : deriver_(deriver) {}

  grpc::Status Derive(grpc::ServerContext* context, const v1::DerivePseudonymRequest* request,
                      v1::DerivePseudonymResponse* response) override;

 private:
  PseudonymDeriver& deriver_;
};

}  // namespace casenode::node
