#include "node/rpc/server.h"

namespace casenode::node {

void ApplyServerOptions(grpc::ServerBuilder& builder) {
  // The sync server starts a thread per busy poller and ends it when idle;
  // with the default limit of 2 pollers, handlers that wait briefly (for a
  // decision write) make it churn threads. Keep up to 16 around.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 2);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 16);
}

std::unique_ptr<grpc::Server> StartServer(ServerSpec spec) {
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(spec.address, spec.credentials, &port);
  if (spec.max_message_bytes > 0) {
    builder.SetMaxReceiveMessageSize(spec.max_message_bytes);
    builder.SetMaxSendMessageSize(spec.max_message_bytes);
  }
  ApplyServerOptions(builder);
  for (grpc::Service* service : spec.services) builder.RegisterService(service);
  if (spec.interceptor) {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
    interceptors.push_back(std::move(spec.interceptor));
    builder.experimental().SetInterceptorCreators(std::move(interceptors));
  }
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) return nullptr;
  return server;
}

}  // namespace casenode::node
