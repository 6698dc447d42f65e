#include "node/services/policy_service.h"

#include "base/log.h"
#include "base/reason.h"
#include "base/strings.h"
#include "node/rpc/context.h"
#include "node/rpc/status.h"

namespace casenode::node {

grpc::Status PolicyService::Show(grpc::ServerContext*, const v1::PolicyShowRequest*,
                                      v1::PolicyShowResponse* response) {
  const auto policy = gate_.policy();
  response->set_name(policy->name());
  response->set_policy_hash(policy->hash());
  response->set_network_policy_hash(network_.manifest()->policy_hash);
  response->set_rule_count(static_cast<uint32_t>(policy->rule_count()));
  for (const auto& f : local_policy_files_) response->add_local_files(f);
  return grpc::Status::OK;
}

}  // namespace casenode::node
