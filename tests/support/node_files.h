// What a test can read from a stopped node's files and keys, and how it can
// call a node's Peer service as one of the network's members.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "casenode/v1/peer.grpc.pb.h"
#include "casenode/v1/types.pb.h"
#include "store/key_store.h"
#include "keys/secret.h"
#include "store/store.h"
#include "tests/support/local_network.h"

namespace casenode::testing {

// `org`'s key store and record store, opened as the node would (to read or
// tamper with them). REQUIRES: the node is not running.
struct NodeStore {
  std::unique_ptr<store::KeyStore> keys;
  std::unique_ptr<store::Store> store;
};
NodeStore OpenNodeStore(const LocalNetwork& net, const std::string& org);

// Every audit entry in `org`'s store, in order. REQUIRES: the node is not running.
std::vector<v1::AuditEntry> StoredEntries(const LocalNetwork& net, const std::string& org);
// Every decision record in `org`'s store. REQUIRES: the node is not running.
std::vector<v1::DecisionRecord> StoredDecisions(const LocalNetwork& net, const std::string& org);

// The TLS key `org` keeps sealed in its directory.
keys::SecretBytes UnsealTlsKey(const LocalNetwork& net, const std::string& org);

// A Peer stub to `target` presenting `as_org`'s certificate and key.
std::unique_ptr<v1::Peer::Stub> PeerStubAs(const LocalNetwork& net, const std::string& target,
                                           const std::string& as_org);

}  // namespace casenode::testing
