// LocalKeys: the key hierarchy for operators (rotation).
#pragma once

#include "casenode/v1/local.grpc.pb.h"
#include "keys/key_store.h"

namespace casenode::node {

class KeysService final : public v1::LocalKeys::Service {
 public:
  explicit KeysService(keys::KeyStore& keys) : keys_(keys) {}

  grpc::Status Rotate(grpc::ServerContext*, const v1::RotateKeysRequest*, v1::RotateKeysResponse*) override;

 private:
  keys::KeyStore& keys_;
};

}  // namespace casenode::node
