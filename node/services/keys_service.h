// LocalKeys: the key hierarchy for operators (rotation).
#pragma once

#include "node/audit/audit_log.h"

#include "casenode/v1/local.grpc.pb.h"
#include "store/key_store.h"

namespace casenode::node {

class KeysService final : public v1::LocalKeys::Service {
 public:
  // Each rotation is an entry of `audit` (a KeyEvent: the new KEK's number).
  KeysService(store::KeyStore& keys, AuditLog& audit) : keys_(keys), audit_(audit) {}

  grpc::Status Rotate(grpc::ServerContext*, const v1::RotateKeysRequest*, v1::RotateKeysResponse*) override;

 private:
  store::KeyStore& keys_;
  AuditLog& audit_;
};

}  // namespace casenode::node
