#include "node/cases/case_host.h"

#include <algorithm>
#include <map>

#include "base/encoding.h"
#include "base/reason.h"
#include "base/status.h"
#include "base/strings.h"
#include "base/text.h"
#include "node/audit/subject_seal.h"
#include "node/cases/case_seal.h"
#include "node/rpc/context.h"
#include "node/rpc/status.h"
#include "node/vocabulary/vocabulary.h"

namespace casenode::node {
namespace {

constexpr std::string_view kPurpose = vocab::kCasusoverleg;

std::optional<std::array<uint8_t, 32>> SubjectOf(std::string_view pseudonym) {
  if (pseudonym.size() != 32) return std::nullopt;
  std::array<uint8_t, 32> s{};
  std::copy(pseudonym.begin(), pseudonym.end(), s.begin());
  return s;
}

}  // namespace

absl::Status LogCaseEvent(AuditLog& audit, store::KeyStore& keys, const std::string& trace_id,
                          const std::optional<std::array<uint8_t, 32>>& subject, std::string_view case_id,
                          v1::CaseEvent::Kind kind, std::string_view org) {
  v1::AuditEntry e;
  e.set_trace_id(trace_id);
  v1::CaseEvent& c = *e.mutable_case_event();
  c.set_case_id(std::string(case_id));
  c.set_kind(kind);
  c.set_org(std::string(org));
  return AppendAbout(audit, keys, subject, std::move(e));
}

int64_t CaseHost::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_().time_since_epoch()).count();
}

absl::StatusOr<PeerCallFacts> CaseHost::ConvenerFacts(std::string_view case_id, const network::Caller& caller,
                                                      std::string action, std::vector<std::string> categories,
                                                      std::string legal_basis, Membership who,
                                                      v1::CaseIndex* index_out,
                                                      v1::CaseSecrets* secrets_out) const {
  PeerCallFacts facts;
  facts.action = std::move(action);
  facts.purpose = kPurpose;
  facts.categories = std::move(categories);
  // What a stranger's call is decided on, whether or not the case exists.
  facts.legal_basis = legal_basis.empty() ? std::string(vocab::kPublicTask) : legal_basis;
  absl::StatusOr<v1::CaseIndex> index = book_.Index(case_id);
  if (!index.ok() && !absl::IsNotFound(index.status())) return index.status();
  if (!index.ok() || index->convener_org() != network_.self_org()) return facts;
  const v1::CaseIndex::Member* m = FindMember(*index, caller.org);
  const bool convener = caller.org == network_.self_org();
  const bool member = convener || (m != nullptr && (m->state() == v1::MEMBER_ACCEPTED ||
                                                    (who.invitee_too && m->state() == v1::MEMBER_INVITED)));
  if (!member) return facts;
  if (index->state() == v1::CASE_DESTROYED) {
    return Error(Reason::kCaseDestroyed, "case: destroyed at the end of its bewaartermijn");
  }
  absl::StatusOr<v1::CaseSecrets> secrets = book_.Secrets(case_id);
  if (!secrets.ok()) {
    if (ReasonOf(secrets.status()) == Reason::kShredded) {
      return Error(Reason::kCaseDestroyed, "case: destroyed at the end of its bewaartermijn");
    }
    return secrets.status();
  }
  facts.purpose = secrets->purpose();
  if (legal_basis.empty()) facts.legal_basis = secrets->legal_basis();
  facts.subject = SubjectOf(secrets->subject());
  facts.receipts.assign(secrets->receipts().begin(), secrets->receipts().end());
  facts.case_member = true;
  facts.case_active = index->state() == v1::CASE_OPEN;
  facts.within_retention = index->destroy_at_ms() == 0 || NowMs() < index->destroy_at_ms();
  if (index_out != nullptr) *index_out = *index;
  if (secrets_out != nullptr) *secrets_out = *std::move(secrets);
  return facts;
}

// ---- at an invitee ----

grpc::Status CaseHost::InviteToCase(grpc::ServerContext* context, const v1::InviteToCaseRequest& request,
                                    v1::InviteToCaseResponse& response) {
  PeerCallFacts facts;
  facts.action = vocab::kCaseInvite;
  facts.purpose = request.purpose();
  facts.legal_basis = vocab::kPublicTask;
  facts.subject = SubjectOf(request.subject());
  facts.case_member = true;  // the invitation itself makes this node one
  return gate_.Admit(context, "Peer.InviteToCase", facts, [&](const PeerCall& call) -> absl::Status {
    // Opened first: only the convener that sealed it gets any answer about the case.
    ASSIGN_OR_RETURN(v1::CaseInvitation inv,
                     OpenInvitation(request.sealed_invitation(), identity_.secret, identity_.public_key,
                                    network_.manifest()->network, request.case_id(), call.caller.org,
                                    network_.self_org()));
    // Delivered again (the convener did not see the answer): the same answer.
    if (absl::StatusOr<v1::CaseIndex> known = book_.Index(request.case_id()); known.ok()) {
      if (known->convener_org() != call.caller.org) {
        return Error(Reason::kMalformedRequest, "sealed_invitation: does not open with this node's key");
      }
      const bool declined = known->state() == v1::CASE_DECLINED;
      response.set_may_join(!declined);
      if (declined && !known->members().empty()) response.set_reason(known->members(0).declined_reason());
      return absl::OkStatus();
    } else if (!absl::IsNotFound(known.status())) {
      return known.status();
    }
    if (inv.secrets().subject() != request.subject() || inv.secrets().purpose() != request.purpose()) {
      return Error(Reason::kMalformedRequest, "sealed_invitation: about another child or purpose than the call");
    }
    // This node's own policy decides whether it may take part at all.
    PeerCallFacts join = facts;
    join.action = vocab::kCaseJoin;
    join.legal_basis = inv.secrets().legal_basis();
    join.receipts.assign(inv.secrets().receipts().begin(), inv.secrets().receipts().end());
    ASSIGN_OR_RETURN(PeerCall own, gate_.DecideOwn("Peer.InviteToCase", join, call.trace_id, NestedDeadline(*context)));
    v1::CaseIndex index;
    index.set_case_id(request.case_id());
    index.set_convener_org(call.caller.org);
    index.set_created_at_ms(NowMs());
    index.set_state(own.decision.allowed() ? v1::CASE_INVITED : v1::CASE_DECLINED);
    v1::CaseIndex::Member& self = *index.add_members();
    self.set_org(network_.self_org());
    self.set_role(network_.self().role);
    self.set_state(own.decision.allowed() ? v1::MEMBER_INVITED : v1::MEMBER_DECLINED);
    self.set_invitation_delivered(true);
    if (!own.decision.allowed()) self.set_declined_reason(std::string(ReasonName(own.decision.reason)));
    // A node whose policy refuses keeps no key of the case.
    v1::CaseSecrets kept;
    if (own.decision.allowed()) kept = inv.secrets();
    RETURN_IF_ERROR(book_.Create(index, kept));
    response.set_may_join(own.decision.allowed());
    response.set_reason(self.declined_reason());
    return absl::OkStatus();
  });
}

grpc::Status CaseHost::DestroyCase(grpc::ServerContext* context, const v1::DestroyCaseRequest& request) {
  auto facts_of = [&](const network::Caller& caller) -> absl::StatusOr<PeerCallFacts> {
    PeerCallFacts facts;
    facts.action = vocab::kCaseDestroy;
    facts.purpose = kPurpose;
    facts.legal_basis = vocab::kPublicTask;
    absl::StatusOr<v1::CaseIndex> index = book_.Index(request.case_id());
    // A store that cannot read the case is not "no such case": the convener would stop asking.
    if (!index.ok() && !absl::IsNotFound(index.status())) return index.status();
    if (!index.ok() || index->convener_org() != caller.org || caller.org == network_.self_org()) return facts;
    facts.case_member = true;
    if (auto secrets = book_.Secrets(request.case_id()); secrets.ok()) facts.subject = SubjectOf(secrets->subject());
    return facts;
  };
  return gate_.AdmitAs(context, "Peer.DestroyCase", facts_of,
                       [&](const PeerCall& call, const PeerCallFacts& facts) -> absl::Status {
                         ASSIGN_OR_RETURN(v1::CaseIndex index, book_.Index(request.case_id()));
                         if (index.state() == v1::CASE_DESTROYED) return absl::OkStatus();  // done before
                         // Logged first: a destruction that cannot be recorded is not done (the convener retries).
                         RETURN_IF_ERROR(LogCaseEvent(audit_, keys_, call.trace_id, facts.subject, request.case_id(),
                                                      v1::CaseEvent::DESTROYED, network_.self_org()));
                         const int64_t now = NowMs();
                         return book_.Destroy(request.case_id(), [&](v1::CaseIndex& i) {
                           i.set_state(v1::CASE_DESTROYED);
                           i.set_destroyed_at_ms(now);
                           return absl::OkStatus();
                         });
                       });
}

// ---- at the convener ----

grpc::Status CaseHost::AnswerCaseInvitation(grpc::ServerContext* context,
                                            const v1::AnswerCaseInvitationRequest& request) {
  auto facts_of = [&](const network::Caller& caller) {
    return ConvenerFacts(request.case_id(), caller, std::string(vocab::kCaseJoin), {}, {}, {.invitee_too = true}, nullptr, nullptr);
  };
  return gate_.AdmitAs(context, "Peer.AnswerCaseInvitation", facts_of,
                       [&](const PeerCall& call, const PeerCallFacts& facts) -> absl::Status {
                         if (call.caller.org == network_.self_org()) {
                           return Error(Reason::kMalformedRequest, "case_id: the convener does not answer its own case");
                         }
                         // Logged before it counts.
                         RETURN_IF_ERROR(LogCaseEvent(
                             audit_, keys_, call.trace_id, facts.subject, request.case_id(),
                             request.accept() ? v1::CaseEvent::JOINED : v1::CaseEvent::DECLINED, call.caller.org));
                         return book_.Change(request.case_id(), [&](v1::CaseIndex& index) -> absl::Status {
                           v1::CaseIndex::Member* m = FindMember(index, call.caller.org);
                           if (m == nullptr) return Error(Reason::kNotCaseMember, "case: not invited");
                           m->set_invitation_delivered(true);
                           m->set_state(request.accept() ? v1::MEMBER_ACCEPTED : v1::MEMBER_DECLINED);
                           return absl::OkStatus();
                         });
                       });
}

grpc::Status CaseHost::ContributeToCase(grpc::ServerContext* context, const v1::ContributeToCaseRequest& request,
                                        v1::ContributeToCaseResponse& response) {
  v1::CaseSecrets secrets;
  auto facts_of = [&](const network::Caller& caller) {
    return ConvenerFacts(request.case_id(), caller, std::string(vocab::kCaseContribute), {request.category()}, request.legal_basis(),
                         {}, nullptr, &secrets);
  };
  return gate_.AdmitAs(context, "Peer.ContributeToCase", facts_of,
                       [&](const PeerCall& call, const PeerCallFacts&) -> absl::Status {
                         v1::CaseContribution c;
                         ASSIGN_OR_RETURN(*c.mutable_text(),
                                          KeptText(secrets.case_key(),
                                                   {"contribution", request.case_id(), request.contribution_id(),
                                                    request.category(), call.caller.org},
                                                   request.text(), kMaxCaseText, "text"));
                         c.set_contribution_id(request.contribution_id());
                         c.set_author_org(call.caller.org);
                         c.set_author_role(call.caller.role);
                         c.set_category(request.category());
                         c.set_legal_basis(request.legal_basis());
                         c.set_time_ms(NowMs());
                         v1::CaseContribution stored;
                         RETURN_IF_ERROR(
                             book_.PutContribution(request.case_id(), c, gate_.policy()->case_settings(), &stored));
                         if (stored.author_org() != call.caller.org) {
                           return Error(Reason::kMalformedRequest, "contribution_id: already used");
                         }
                         response.set_time_ms(stored.time_ms());
                         return absl::OkStatus();
                       });
}

grpc::Status CaseHost::ReadCase(grpc::ServerContext* context, const v1::ReadCaseRequest& request,
                                v1::ReadCaseResponse& response) {
  v1::CaseIndex index;
  auto facts_of = [&](const network::Caller& caller) {
    return ConvenerFacts(request.case_id(), caller, std::string(vocab::kCaseRead), {std::string(vocab::kAfspraken)}, {}, {}, &index, nullptr);
  };
  return gate_.AdmitAs(
      context, "Peer.ReadCase", facts_of, [&](const PeerCall& call, const PeerCallFacts& facts) -> absl::Status {
        auto all_read = book_.Contributions(request.case_id());
        auto actions_read = book_.Actions(request.case_id());
        for (const absl::Status& st : {all_read.status(), actions_read.status()}) {
          if (ReasonOf(st) == Reason::kShredded) {  // destroyed while this call was admitted
            return Error(Reason::kCaseDestroyed, "case: destroyed at the end of its bewaartermijn");
          }
          RETURN_IF_ERROR(st);
        }
        std::vector<v1::CaseContribution>& all = *all_read;
        std::vector<v1::CaseAction>& actions = *actions_read;
        // Contributions first, then agreements, each from its cursor, until
        // the page holds about kMaxReadPageBytes (edge: at most one cursor).
        auto from = request.after_action().empty() ? all.begin() : all.end();
        if (!request.after().empty()) {
          from = std::find_if(all.begin(), all.end(),
                              [&](const v1::CaseContribution& c) { return c.contribution_id() == request.after(); });
          if (from == all.end()) return Error(Reason::kMalformedRequest, "after: not a contribution of this case");
          ++from;
        }
        size_t page_bytes = 0;
        // One decision per (category, basis): every contribution shared on
        // the same terms is decided alike, and each decision is logged.
        std::map<std::pair<std::string, std::string>, policy::Decision> decided;
        std::vector<std::string> disclosed = {std::string(vocab::kAfspraken)};
        const auto deadline = NestedDeadline(*context);
        std::string last;  // the id of the last contribution on this page
        for (auto it_c = from; it_c != all.end(); ++it_c) {
          v1::CaseContribution& c = *it_c;
          if (page_bytes > kMaxReadPageBytes) {  // the rest on the next page
            response.set_next(last);
            break;
          }
          page_bytes += c.ByteSizeLong();
          last = c.contribution_id();
          const auto terms = std::make_pair(c.category(), c.legal_basis());
          auto it = decided.find(terms);
          if (it == decided.end()) {
            PeerCallFacts one = facts;
            one.categories = {c.category()};
            one.legal_basis = c.legal_basis();
            ASSIGN_OR_RETURN(PeerCall again, gate_.DecideAlso(call, "Peer.ReadCase", one, deadline));
            it = decided.emplace(terms, again.decision).first;
            if (again.decision.allowed() &&
                std::find(disclosed.begin(), disclosed.end(), c.category()) == disclosed.end()) {
              disclosed.push_back(c.category());
            }
          }
          if (it->second.allowed()) {
            *response.add_contributions() = std::move(c);
          } else {
            v1::WithheldContribution& w = *response.add_withheld();
            w.set_contribution_id(c.contribution_id());
            w.set_author_org(c.author_org());
            w.set_category(c.category());
            w.set_reason(std::string(ReasonName(it->second.reason)));
            w.set_time_ms(c.time_ms());
          }
        }
        auto from_action = actions.begin();
        if (!request.after_action().empty()) {
          from_action = std::find_if(actions.begin(), actions.end(),
                                     [&](const v1::CaseAction& a) { return a.action_id() == request.after_action(); });
          if (from_action == actions.end()) {
            return Error(Reason::kMalformedRequest, "after_action: not an agreement of this case");
          }
          ++from_action;
        }
        if (response.next().empty()) {
          for (auto it_a = from_action; it_a != actions.end(); ++it_a) {
            // At least one per page, so every page moves on.
            if (page_bytes > kMaxReadPageBytes && response.actions_size() > 0) {
              response.set_next_action(response.actions().rbegin()->action_id());
              break;
            }
            page_bytes += it_a->ByteSizeLong();
            *response.add_actions() = std::move(*it_a);
          }
        }
        // Each member sees its own share only: another's byte count would tell
        // the length of what it may not read.
        auto& shares = *index.mutable_shares();
        shares.erase(std::remove_if(shares.begin(), shares.end(),
                                    [&](const v1::CaseIndex::Share& s) { return s.org() != call.caller.org; }),
                     shares.end());
        *response.mutable_index() = index;
        const auto items = static_cast<uint32_t>(response.contributions_size() + response.actions_size());
        return gate_.Disclose(call, "Peer.ReadCase", std::move(disclosed), items, facts.subject);
      });
}

grpc::Status CaseHost::SetCaseAction(grpc::ServerContext* context, const v1::SetCaseActionRequest& request,
                                     v1::SetCaseActionResponse& response) {
  const v1::CaseAction& a = request.action();
  v1::CaseSecrets secrets;
  auto facts_of = [&](const network::Caller& caller) {
    return ConvenerFacts(request.case_id(), caller, std::string(vocab::kCaseContribute), {std::string(vocab::kAfspraken)}, {}, {}, nullptr, &secrets);
  };
  return gate_.AdmitAs(
      context, "Peer.SetCaseAction", facts_of, [&](const PeerCall& call, const PeerCallFacts&) -> absl::Status {
        const int64_t now = NowMs();
        ASSIGN_OR_RETURN(
            v1::CaseAction kept,
            book_.SetAction(request.case_id(), a.action_id(), gate_.policy()->case_settings(),
                            [&](std::optional<v1::CaseAction> existing) -> absl::StatusOr<v1::CaseAction> {
                              v1::CaseAction out;
                              if (existing) {
                                // Who takes it up says when it is done; the regisseur may too.
                                if (call.caller.org != existing->owner_org() &&
                                    call.caller.org != network_.self_org()) {
                                  return Error(Reason::kNotActionOwner,
                                               "action: only its owner organisation or the convener updates it");
                                }
                                out = *std::move(existing);
                                out.set_status(a.status());
                                if (a.due_ms() > 0) out.set_due_ms(a.due_ms());  // 0 keeps the date
                              } else {
                                if (network_.manifest()->FindOrg(a.owner_org()) == nullptr) {
                                  return Error(Reason::kUnknownOrg, "action.owner_org: not in the manifest");
                                }
                                // A new agreement: its fields were checked at the edge if present.
                                if (a.owner_staff().empty() || a.due_ms() == 0 || !a.has_description()) {
                                  return Error(Reason::kMalformedRequest,
                                               "action: owner_staff, due_ms and description are required for a new one");
                                }
                                // Work for another organisation is agreed by the regisseur: a
                                // member cannot put an agreement on someone else's list.
                                if (a.owner_org() != call.caller.org && call.caller.org != network_.self_org()) {
                                  return Error(Reason::kNotActionOwner,
                                               "action.owner_org: only the convener gives another organisation an agreement");
                                }
                                // Field by field: nothing else the member sent is kept.
                                out.set_action_id(a.action_id());
                                out.set_owner_org(a.owner_org());
                                out.set_owner_staff(a.owner_staff());
                                out.set_due_ms(a.due_ms());
                                out.set_status(a.status());
                                out.set_added_by_org(call.caller.org);
                                // "afspraken": a fixed part of the seal context (see CaseDesk::ViewOf).
                                ASSIGN_OR_RETURN(*out.mutable_description(),
                                                 KeptText(secrets.case_key(),
                                                          {"action", request.case_id(), a.action_id(), "afspraken",
                                                           call.caller.org},
                                                          a.description(), kMaxActionText, "action.description"));
                              }
                              out.set_updated_at_ms(now);
                              return out;
                            }));
        *response.mutable_action() = std::move(kept);
        return absl::OkStatus();
      });
}

grpc::Status CaseHost::CloseCase(grpc::ServerContext* context, const v1::CloseCaseRequest& request,
                                 v1::CloseCaseResponse& response) {
  auto facts_of = [&](const network::Caller& caller) {
    return ConvenerFacts(request.case_id(), caller, std::string(vocab::kCaseClose), {}, {}, {}, nullptr, nullptr);
  };
  return gate_.AdmitAs(
      context, "Peer.CloseCase", facts_of, [&](const PeerCall& call, const PeerCallFacts& facts) -> absl::Status {
        if (call.caller.org != network_.self_org()) {
          return Error(Reason::kNotCaseMember, "case: only its convener closes it");
        }
        ASSIGN_OR_RETURN(v1::CaseIndex before, book_.Index(request.case_id()));
        if (before.state() == v1::CASE_OPEN) {  // logged before it counts
          RETURN_IF_ERROR(LogCaseEvent(audit_, keys_, call.trace_id, facts.subject, request.case_id(),
                                       v1::CaseEvent::CLOSED, network_.self_org()));
        }
        const int64_t now = NowMs();
        const auto retention = static_cast<int64_t>(gate_.policy()->case_settings().retention_seconds);
        RETURN_IF_ERROR(book_.Change(request.case_id(), [&](v1::CaseIndex& index) {
          if (index.state() == v1::CASE_OPEN) {
            index.set_state(v1::CASE_CLOSED);
            index.set_closed_at_ms(now);
            index.set_destroy_at_ms(now + retention * 1000);
          }
          response.set_destroy_at_ms(index.destroy_at_ms());
          return absl::OkStatus();
        }));
        kick_keeper_();
        return absl::OkStatus();
      });
}

}  // namespace casenode::node
