// CaseKeeper: a convener's work that outlives a call, on one thread.
//   - Delivers the orders in the CaseBook (Peer InviteToCase, DestroyCase)
//     until each is acknowledged. An order to a node that is down stays,
//     persisted, and is tried again with backoff (250 ms doubling to 30 s, in
//     memory: after a restart every order is tried at once); the case shows
//     it as pending until then. A refusal by the invitee's policy is final
//     (the member shows as declined, with the reason).
//   - Destroys each closed case whose bewaartermijn has ended: logs it,
//     crypto-shreds the case's data key, and orders every member that got
//     the key to destroy its copy.
// Thread-safe; the destructor stops the thread.
#pragma once

#include <map>
#include <string>

#include "base/wake_loop.h"
#include "store/key_store.h"
#include "node/audit/audit_log.h"
#include "node/cases/case_book.h"
#include "network/network.h"
#include "node/rpc/peer_client.h"

namespace casenode::node {

class CaseKeeper {
 public:
  CaseKeeper(const network::Network& network, PeerClient& peers, CaseBook& book, AuditLog& audit, store::KeyStore& keys,
             Clock clock);

  // Starts the thread (after the node's listeners are up).
  void Start() { loop_.Start(); }
  // Something is due now (an order made, a case closed).
  void Kick() { loop_.Kick(); }
  void Stop() { loop_.Stop(); }

 private:
  // One pass; returns when the next one is due.
  std::chrono::milliseconds Pass();
  [[nodiscard]] absl::Status DestroyCase(const v1::CaseIndex& index);
  // Delivers one order; OK once it is done with (delivered, or final).
  [[nodiscard]] absl::Status Deliver(const v1::CaseOrder& order);
  int64_t NowMs() const;

  const network::Network& network_;
  PeerClient& peers_;
  CaseBook& book_;
  AuditLog& audit_;
  store::KeyStore& keys_;
  const Clock clock_;
  struct Attempts {
    int count = 0;
    int64_t next_ms = 0;
  };
  std::map<std::string, Attempts> schedule_;  // by order id; the loop thread's own
  WakeLoop loop_;                              // last: stopped before the rest goes
};

}  // namespace casenode::node
