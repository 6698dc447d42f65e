#include "tests/support/node_files.h"

#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>

#include "base/file.h"
#include "keys/identity.h"
#include "store/key_store.h"
#include "keys/master_key.h"
#include "store/store.h"

namespace casenode::testing {

NodeStore OpenNodeStore(const LocalNetwork& net, const std::string& org) {
  auto ks = store::KeyStore::Open(net.NodeDir(org) + "/data/keys",
                                 *keys::MasterKey::FromKeyFile(net.NodeDir(org) + "/master.key"));
  REQUIRE(ks.ok());
  auto st = store::Store::Open(net.NodeDir(org) + "/data/records", **ks, SystemNow);
  REQUIRE(st.ok());
  return NodeStore{*std::move(ks), *std::move(st)};
}

std::vector<v1::AuditEntry> StoredEntries(const LocalNetwork& net, const std::string& org) {
  const NodeStore opened = OpenNodeStore(net, org);
  std::vector<v1::AuditEntry> out;
  REQUIRE(opened.store->Scan(store::Family::kAudit, "e", [&](std::string_view, const absl::StatusOr<std::string>& v) {
    REQUIRE(v.ok());
    REQUIRE(out.emplace_back().ParseFromString(*v));
  }).ok());
  return out;
}

std::vector<v1::DecisionRecord> StoredDecisions(const LocalNetwork& net, const std::string& org) {
  std::vector<v1::DecisionRecord> out;
  for (const v1::AuditEntry& e : StoredEntries(net, org)) {
    if (e.has_decision()) out.push_back(e.decision());
  }
  return out;
}

keys::SecretBytes UnsealTlsKey(const LocalNetwork& net, const std::string& org) {
  const std::string sealed = *ReadFile(net.NodeDir(org) + "/identity.sealed");
  auto master = keys::MasterKey::Unlock("file:" + net.NodeDir(org) + "/master.key", AsBytes(sealed));
  REQUIRE(master.ok());
  auto plain = master->Open(keys::kNodeIdentityPurpose, AsBytes(sealed));
  REQUIRE(plain.ok());
  auto identity = keys::NodeIdentity::Parse(plain->span());
  REQUIRE(identity.ok());
  return std::move(identity->tls_key_pem);
}

std::unique_ptr<v1::Peer::Stub> PeerStubAs(const LocalNetwork& net, const std::string& target,
                                           const std::string& as_org) {
  grpc::SslCredentialsOptions opts;
  opts.pem_root_certs = *ReadFile(net.dir() + "/network/ca.pem");
  opts.pem_cert_chain = *ReadFile(net.NodeDir(as_org) + "/cert.pem");
  opts.pem_private_key = std::string(UnsealTlsKey(net, as_org).InsecureView());
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride(target);
  return v1::Peer::NewStub(grpc::CreateCustomChannel(net.Endpoint(target), grpc::SslCredentials(opts), args));
}

}  // namespace casenode::testing
