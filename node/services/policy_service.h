// LocalPolicy: the policy in force, for staff and operators.
#pragma once

#include <string>
#include <vector>

#include "casenode/v1/local.grpc.pb.h"
#include "node/gate/gate.h"
#include "network/network.h"

namespace casenode::node {

class PolicyService final : public v1::LocalPolicy::Service {
 public:
  PolicyService(const network::Network& network, const PeerGate& gate, std::vector<std::string> local_policy_files)
      : network_(network), gate_(gate), local_policy_files_(std::move(local_policy_files)) {}

  grpc::Status Show(grpc::ServerContext*, const v1::PolicyShowRequest*, v1::PolicyShowResponse*) override;

 private:
  const network::Network& network_;
  const PeerGate& gate_;
  const std::vector<std::string> local_policy_files_;
};

}  // namespace casenode::node
