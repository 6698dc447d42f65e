// Starting a casenode gRPC listener: the options every listener uses, its
// services and its interceptor, in one place for the Peer and Local ones.
#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <string>
#include <vector>

namespace casenode::node {

// The gRPC server options every casenode listener uses.
void ApplyServerOptions(grpc::ServerBuilder& builder);

struct ServerSpec {
  std::string address;  // "host:port", or "unix:" and a path
  std::shared_ptr<grpc::ServerCredentials> credentials;
  std::vector<grpc::Service*> services;
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> interceptor;  // may be null
  int max_message_bytes = 0;  // both ways; 0 keeps gRPC's defaults
};

// Builds and starts the server; nullptr if it could not listen on the address.
std::unique_ptr<grpc::Server> StartServer(ServerSpec spec);

}  // namespace casenode::node
