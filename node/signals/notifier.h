// Notifier: delivers the match notices in the SignalBook's outbox (Peer
// NotifySignal), one thread, until each is acknowledged. A notice that cannot
// be delivered now (recipient down) stays in the outbox, persisted, and is
// tried again with exponential backoff (250 ms doubling to 30 s, kept in
// memory: after a restart every notice is tried at once); it shows as
// pending in the sender's inbox until then. A refusal by the recipient's
// policy is final: the notice shows as refused. A restart resumes with
// whatever the outbox holds. Thread-safe; the destructor stops the thread.
#pragma once

#include <map>
#include <string>

#include "base/wake_loop.h"
#include "network/network.h"
#include "node/rpc/peer_client.h"
#include "node/signals/signal_book.h"

namespace casenode::node {

// The sender's inbox entry for a notice to `to`, showing `theirs` (the
// recipient's match as this node's own lookup found it).
v1::MatchNotice SentNotice(const v1::PendingNotice& pending, const v1::SignalMatch& theirs,
                           const network::ManifestNode& to);

class Notifier {
 public:
  Notifier(const network::Network& network, PeerClient& peers, SignalBook& book, Clock clock);
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Starts the delivery thread (after the node's listeners are up).
  void Start() { loop_.Start(); }
  // Something was enqueued: try now rather than at the next scheduled time.
  void Kick() { loop_.Kick(); }
  // Stops the thread after the notice being delivered (Node::Shutdown).
  void Stop() { loop_.Stop(); }

 private:
  // One pass over the outbox; returns when the next attempt is due.
  std::chrono::milliseconds DeliverDue();

  const network::Network& network_;
  PeerClient& peers_;
  SignalBook& book_;
  const Clock clock_;
  // When each notice is tried next (the delivery thread's own; a restart tries all at once).
  struct Attempts {
    int count = 0;
    int64_t next_ms = 0;
    int64_t looked_up_ms = 0;  // when this thread's own lookup found the recipient's signal
  };
  std::map<std::string, Attempts> schedule_;
  WakeLoop loop_;  // last: stopped before the rest goes
};

}  // namespace casenode::node
