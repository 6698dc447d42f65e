// SignalHost: the Peer side of signals (DESIGN.md, "Signals and matches").
// Answers another node's lookup for a child's pseudonym with this node's live
// signals on it, and stores the match notice a registrant sends. Both pass
// PeerGate first, with facts taken from the request alone: the decision never
// depends on whether this node holds the child, and a refused caller gets the
// same answer as one asking about a child held nowhere.
// Thread-safe (the book and the gate are).
#pragma once

#include "casenode/v1/peer.grpc.pb.h"
#include "node/gate/gate.h"
#include "network/network.h"
#include "node/signals/signal_book.h"

namespace casenode::node {

class SignalHost {
 public:
  SignalHost(const network::Network& network, PeerGate& gate, SignalBook& signals, Clock clock)
      : network_(network), gate_(gate), signals_(signals), clock_(std::move(clock)) {}

  // REQUIRES: `request` passed the edge (edge::Check).
  grpc::Status LookupSignal(grpc::ServerContext* context, const v1::LookupSignalRequest& request,
                            v1::LookupSignalResponse& response);
  // REQUIRES: `request` passed the edge (edge::Check).
  grpc::Status NotifySignal(grpc::ServerContext* context, const v1::NotifySignalRequest& request,
                            v1::NotifySignalResponse& response);

 private:
  const network::Network& network_;
  PeerGate& gate_;
  SignalBook& signals_;
  const Clock clock_;
};

}  // namespace casenode::node
