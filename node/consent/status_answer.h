// This node's answer about a consent receipt it issued, to the node that asks
// (Peer ConsentStatus) or to itself (the verifier, for this node's own
// decisions). The answer is an entry of the audit log (STATUS_ANSWERED, about
// the receipt's child, sealed) before it is given: no log, no answer.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "casenode/v1/types.pb.h"
#include "store/key_store.h"
#include "node/audit/audit_log.h"
#include "node/consent/consent_book.h"
#include "node/consent/verifier.h"

namespace casenode::node {

// The state of receipt `receipt_id` issued by `self_org`, as answered to
// `asker` on the call (`trace_id`, `span_id`). `revoked_at_unix` (if given)
// gets the revocation time. DECISION_NOT_RECORDED if the log cannot take it.
[[nodiscard]] absl::StatusOr<v1::ConsentCheck> AnswerConsentStatus(const consent::ConsentBook& book, AuditLog& audit,
                                                                   store::KeyStore& keys, const std::string& self_org,
                                                                   const std::string& asker,
                                                                   const std::string& receipt_id,
                                                                   const std::string& trace_id,
                                                                   const std::string& span_id,
                                                                   int64_t* revoked_at_unix = nullptr);

// The verifier's way to this node's own answers (consent::OwnAnswer): the
// node asks itself, and the answer is logged like any other.
consent::OwnAnswer OwnConsentAnswer(const consent::ConsentBook& book, AuditLog& audit, store::KeyStore& keys,
                                    std::string self_org);

// ConsentBook::LoadHold at start, each hold logged (a HELD consent event,
// synced) before it takes effect, and a warning line.
[[nodiscard]] absl::Status LoadConsentHold(consent::ConsentBook& book, AuditLog& audit, const std::string& self_org);

}  // namespace casenode::node
