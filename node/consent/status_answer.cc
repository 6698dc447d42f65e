#include "node/consent/status_answer.h"

#include <algorithm>
#include <array>
#include <optional>

#include "base/log.h"
#include "base/reason.h"
#include "base/status.h"
#include "node/audit/subject_seal.h"

namespace casenode::node {

absl::StatusOr<v1::ConsentCheck> AnswerConsentStatus(const consent::ConsentBook& book, AuditLog& audit,
                                                     store::KeyStore& keys, const std::string& self_org,
                                                     const std::string& asker, const std::string& receipt_id,
                                                     const std::string& trace_id, const std::string& span_id,
                                                     int64_t* revoked_at_unix) {
  v1::ConsentCheck answer;
  answer.set_receipt_id(receipt_id);
  answer.set_issuer_org(self_org);
  answer.set_trace_id(trace_id);
  answer.set_span_id(span_id);
  absl::StatusOr<v1::ConsentState> answered = book.Answer(
      receipt_id, [&](v1::ConsentState state, const v1::ConsentEntry* entry) -> absl::Status {
        answer.set_state(state);
        v1::AuditEntry e;
        e.set_trace_id(trace_id);
        e.set_span_id(span_id);
        v1::ConsentEvent& c = *e.mutable_consent();
        c.set_kind(v1::ConsentEvent::STATUS_ANSWERED);
        c.set_receipt_id(receipt_id);
        c.set_issuer_org(self_org);
        c.set_asker_org(asker);
        c.set_state(answer.state());
        std::optional<std::array<uint8_t, 32>> subject;
        if (entry != nullptr) {
          subject.emplace();
          std::copy(entry->receipt().subject().begin(), entry->receipt().subject().end(), subject->begin());
          if (revoked_at_unix != nullptr) *revoked_at_unix = entry->revoked_at_unix();
        }
        // The answer is given only once it is logged.
        uint64_t seq = 0;
        if (absl::Status s = AppendAbout(audit, keys, subject, std::move(e), &seq); !s.ok()) {
          return Error(Reason::kDecisionNotRecorded, "cannot record the answer; refusing to give it");
        }
        answer.set_answer_seq(seq);
        return absl::OkStatus();
      });
  if (!answered.ok()) return answered.status();
  return answer;
}

consent::OwnAnswer OwnConsentAnswer(const consent::ConsentBook& book, AuditLog& audit, store::KeyStore& keys,
                                    std::string self_org) {
  return [&book, &audit, &keys, self_org = std::move(self_org)](const std::string& receipt_id,
                                                                 const std::string& trace_id,
                                                                 const std::string& span_id) {
    return AnswerConsentStatus(book, audit, keys, self_org, self_org, receipt_id, trace_id, span_id);
  };
}

absl::Status LoadConsentHold(consent::ConsentBook& book, AuditLog& audit, const std::string& self_org) {
  return book.LoadHold([&](const v1::ConsentHold& hold) {
    v1::AuditEntry e;
    v1::ConsentEvent& c = *e.mutable_consent();
    c.set_kind(v1::ConsentEvent::HELD);
    c.set_issuer_org(self_org);
    c.set_hold_generation(hold.generation());
    Log(LogLevel::kWarn, "consent.held",
        {{"hold_generation", hold.generation()}, {"lost_revocations", hold.lost_revocations()}});
    return audit.Append(std::move(e), store::Durability::kSynced);
  });
}

}  // namespace casenode::node
