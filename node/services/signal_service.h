// LocalSignals: staff register, check, withdraw and list signals, and read
// the inbox of match notices.
#pragma once

#include "casenode/v1/local.grpc.pb.h"
#include "node/edge/requests.h"
#include "node/metrics/metrics.h"
#include "node/signals/desk.h"
#include "node/signals/signal_book.h"

namespace casenode::node {

class SignalService final : public v1::LocalSignals::Service {
 public:
  SignalService(SignalDesk& desk, SignalBook& book, Metrics& metrics, edge::KnownFn known)
      : desk_(desk), book_(book), metrics_(metrics), known_(std::move(known)) {}

  grpc::Status Register(grpc::ServerContext*, const v1::RegisterSignalRequest*, v1::RegisterSignalResponse*) override;
  grpc::Status Check(grpc::ServerContext*, const v1::CheckSignalRequest*, v1::SignalCheckResult*) override;
  grpc::Status Withdraw(grpc::ServerContext*, const v1::WithdrawSignalRequest*, v1::WithdrawSignalResponse*) override;
  grpc::Status List(grpc::ServerContext*, const v1::ListSignalsRequest*, v1::ListSignalsResponse*) override;
  grpc::Status Inbox(grpc::ServerContext*, const v1::InboxRequest*, v1::InboxResponse*) override;

 private:
  SignalDesk& desk_;
  SignalBook& book_;
  Metrics& metrics_;
  const edge::KnownFn known_;
};

}  // namespace casenode::node
