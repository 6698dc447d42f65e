#include "node/cases/desk.h"

#include <sodium.h>

#include <algorithm>
#include <tuple>

#include "base/reason.h"
#include "base/status.h"
#include "base/strings.h"
#include "node/cases/case_host.h"
#include "node/cases/case_seal.h"
#include "node/consent/consent_book.h"
#include "node/vocabulary/vocabulary.h"

namespace casenode::node {
namespace {

constexpr int64_t kDayMs = 86400000;

absl::Status Destroyed() { return Error(Reason::kCaseDestroyed, "case: destroyed at the end of its bewaartermijn"); }

// A case within the members' shares (16 × 3 MiB at most) in pages of 512 KiB, with room to spare.
constexpr int kMaxReadPages = 256;

}  // namespace

int64_t CaseDesk::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_().time_since_epoch()).count();
}

absl::StatusOr<v1::ConveneCaseResponse> CaseDesk::Convene(const v1::ConveneCaseRequest& request,
                                                          const std::string& trace_id, Deadline deadline) {
  // REQUIRES: edge::Check(request).ok(), so every field is well formed
  // before anything is derived, decided or stored.
  auto bsn = ParseBsn(request.bsn());
  if (!bsn.ok()) return Annotate("bsn", bsn.status());
  const auto manifest = network_.manifest();
  std::vector<const network::ManifestNode*> invitees;
  for (const std::string& org : request.invite()) {
    const network::ManifestNode* node = manifest->FindOrg(org);
    if (node == nullptr) return Error(Reason::kUnknownOrg, "invite: an organisation left the manifest meanwhile");
    invitees.push_back(node);
  }
  std::vector<consent::ConsentReceipt> receipts;
  for (int i = 0; i < request.consent_receipts_size(); ++i) {
    auto r = consent::FromProto(request.consent_receipts(i));
    if (!r.ok()) return Annotate(StrCat("consent_receipts[", i, "]"), r.status());
    receipts.push_back(*std::move(r));
  }
  ASSIGN_OR_RETURN(Derivation d, deriver_.Derive(*bsn, request.purpose(), std::string(vocab::kPublicTask), trace_id,
                                                 deadline - (deadline - std::chrono::system_clock::now()) / 2));
  for (size_t i = 0; i < receipts.size(); ++i) {
    if (sodium_memcmp(receipts[i].subject.data(), d.pseudonym.data(), d.pseudonym.size()) != 0) {
      return Error(Reason::kConsentOutOfScope, StrCat("consent_receipts[", i, "]: about another child"));
    }
  }
  PeerCallFacts facts;
  facts.action = vocab::kCaseConvene;
  facts.purpose = request.purpose();
  facts.legal_basis = request.legal_basis();
  facts.subject = d.pseudonym;
  facts.receipts.assign(request.consent_receipts().begin(), request.consent_receipts().end());
  ASSIGN_OR_RETURN(PeerCall own, gate_.DecideOwn("Local.ConveneCase", facts, trace_id, deadline));
  if (!own.decision.allowed()) return PeerGate::Denial(facts, own.decision);

  v1::CaseIndex index;
  index.set_case_id(CaseBook::NewId());
  index.set_convener_org(network_.self_org());
  index.set_state(v1::CASE_OPEN);
  index.set_created_at_ms(NowMs());
  v1::CaseSecrets secrets;
  secrets.set_case_key(NewCaseKey());
  secrets.set_subject(std::string(d.pseudonym.begin(), d.pseudonym.end()));
  secrets.set_purpose(request.purpose());
  secrets.set_legal_basis(request.legal_basis());
  *secrets.mutable_receipts() = request.consent_receipts();
  secrets.set_title(request.title());
  secrets.set_regisseur(request.regisseur());
  std::vector<v1::CaseOrder> orders;
  for (const network::ManifestNode* to : invitees) {
    v1::CaseIndex::Member& m = *index.add_members();
    m.set_org(to->org);
    m.set_role(to->role);
    m.set_state(v1::MEMBER_INVITED);
    v1::CaseInvitation inv;
    inv.set_domain(std::string(kInvitationDomain));
    inv.set_network(manifest->network);
    inv.set_case_id(index.case_id());
    inv.set_to_org(to->org);
    inv.set_from_org(network_.self_org());
    *inv.mutable_secrets() = secrets;
    v1::CaseOrder& order = orders.emplace_back();
    order.set_order_id(CaseBook::NewId());
    order.set_case_id(index.case_id());
    order.set_to_org(to->org);
    order.set_kind(v1::CaseOrder::INVITE);
    order.set_subject(secrets.subject());
    order.set_purpose(request.purpose());
    order.set_sealed_invitation(SealInvitation(inv, to->encryption_key));
    *order.mutable_receipts() = request.consent_receipts();
  }
  RETURN_IF_ERROR(LogCaseEvent(audit_, keys_, trace_id, facts.subject, index.case_id(), v1::CaseEvent::CONVENED,
                               network_.self_org()));
  RETURN_IF_ERROR(book_.Create(index, secrets, orders));
  keeper_.Kick();
  v1::ConveneCaseResponse response;
  response.set_case_id(index.case_id());
  return response;
}

absl::StatusOr<v1::ListCasesResponse> CaseDesk::List() const {
  ASSIGN_OR_RETURN(std::vector<v1::CaseIndex> all, book_.List());
  ASSIGN_OR_RETURN(std::vector<v1::CaseOrder> orders, book_.Orders());
  const int64_t now = NowMs();
  v1::ListCasesResponse response;
  for (v1::CaseIndex& index : all) {
    v1::CaseSummary& s = *response.add_cases();
    s.set_convener(index.convener_org() == network_.self_org());
    s.set_pending_orders(static_cast<uint32_t>(std::count_if(
        orders.begin(), orders.end(), [&](const v1::CaseOrder& o) { return o.case_id() == index.case_id(); })));
    if (s.convener() && index.state() != v1::CASE_DESTROYED) {
      if (auto actions = book_.Actions(index.case_id()); actions.ok()) {
        s.set_overdue_actions(static_cast<uint32_t>(std::count_if(actions->begin(), actions->end(), [&](const auto& a) {
          return a.status() == v1::ACTION_OPEN && std::min(a.due_ms(), kMaxDueMs) + kDayMs <= now;
        })));
      }
    }
    *s.mutable_index() = std::move(index);
  }
  return response;
}

absl::StatusOr<CaseDesk::Held> CaseDesk::Hold(std::string_view case_id) const {
  RETURN_IF_ERROR(CaseBook::CheckId(case_id, "case id"));
  absl::StatusOr<v1::CaseIndex> index = book_.Index(case_id);
  if (absl::IsNotFound(index.status())) return Error(Reason::kNotCaseMember, "case: this node takes no part in it");
  RETURN_IF_ERROR(index.status());
  if (index->state() == v1::CASE_DESTROYED) return Destroyed();
  if (index->state() == v1::CASE_DECLINED) return Error(Reason::kNotCaseMember, "case: declined");
  absl::StatusOr<v1::CaseSecrets> secrets = book_.Secrets(case_id);
  if (!secrets.ok() && ReasonOf(secrets.status()) == Reason::kShredded) return Destroyed();
  RETURN_IF_ERROR(secrets.status());
  const auto manifest = network_.manifest();
  const network::ManifestNode* convener = manifest->FindOrg(index->convener_org());
  if (convener == nullptr) return Error(Reason::kUnknownOrg, "case: its convener left the network");
  return Held{*std::move(index), *std::move(secrets), *convener};
}

absl::Status CaseDesk::Answer(const v1::AnswerCaseRequest& request, const std::string& trace_id, Deadline deadline) {
  ASSIGN_OR_RETURN(Held held, Hold(request.case_id()));
  if (held.index.state() != v1::CASE_INVITED) {
    return Error(Reason::kMalformedRequest, "case: not an invitation waiting for an answer");
  }
  if (request.accept()) {
    // This node's policy decides again, now: it may have changed since the invitation.
    PeerCallFacts facts;
    facts.action = vocab::kCaseJoin;
    facts.purpose = held.secrets.purpose();
    facts.legal_basis = held.secrets.legal_basis();
    facts.subject.emplace();
    std::copy_n(held.secrets.subject().begin(), 32, facts.subject->begin());
    facts.receipts.assign(held.secrets.receipts().begin(), held.secrets.receipts().end());
    facts.case_member = true;
    ASSIGN_OR_RETURN(PeerCall own, gate_.DecideOwn("Local.AnswerCase", facts, trace_id, deadline));
    if (!own.decision.allowed()) return PeerGate::Denial(facts, own.decision);
  }
  v1::AnswerCaseInvitationRequest req;
  req.set_case_id(request.case_id());
  req.set_accept(request.accept());
  RETURN_IF_ERROR(peers_.AnswerCaseInvitation(held.convener, req, trace_id, deadline).status());
  auto mark = [&](v1::CaseIndex& i) {
    if (i.state() == v1::CASE_DESTROYED) return absl::OkStatus();  // destroyed meanwhile: that stands
    i.set_state(request.accept() ? v1::CASE_OPEN : v1::CASE_DECLINED);
    for (auto& m : *i.mutable_members()) m.set_state(request.accept() ? v1::MEMBER_ACCEPTED : v1::MEMBER_DECLINED);
    return absl::OkStatus();
  };
  // A node that declines keeps no key of the case.
  if (!request.accept()) return book_.Destroy(request.case_id(), mark);
  return book_.Change(request.case_id(), mark);
}

absl::StatusOr<v1::ContributeCaseResponse> CaseDesk::Contribute(const v1::ContributeCaseRequest& request,
                                                                const std::string& trace_id, Deadline deadline) {
  ASSIGN_OR_RETURN(Held held, Hold(request.case_id()));
  v1::ContributeToCaseRequest req;
  req.set_case_id(request.case_id());
  req.set_contribution_id(CaseBook::NewId());
  req.set_category(request.category());
  req.set_legal_basis(request.legal_basis().empty() ? held.secrets.legal_basis() : request.legal_basis());
  *req.mutable_text() = SealText(held.secrets.case_key(),
                                 {"contribution", req.case_id(), req.contribution_id(), req.category(),
                                  network_.self_org()},
                                 request.text());
  RETURN_IF_ERROR(peers_.ContributeToCase(held.convener, req, trace_id, deadline).status());
  v1::ContributeCaseResponse response;
  response.set_contribution_id(req.contribution_id());
  return response;
}

v1::CaseActionView CaseDesk::ViewOf(const v1::CaseAction& a, std::string_view case_id, std::string_view key) const {
  v1::CaseActionView v;
  v.set_action_id(a.action_id());
  v.set_owner_org(a.owner_org());
  v.set_owner_staff(a.owner_staff());
  v.set_due_ms(a.due_ms());
  v.set_status(a.status());
  v.set_added_by_org(a.added_by_org());
  // Overdue once its due date has passed (the whole day counts).
  v.set_overdue(a.status() == v1::ACTION_OPEN && std::min(a.due_ms(), kMaxDueMs) + kDayMs <= NowMs());
  // "afspraken" here is part of the seal context (case_seal.h), a fixed byte
  // string, not the policy's category name: renaming one must not make stored
  // agreements unreadable.
  auto text = OpenText(key, {"action", case_id, a.action_id(), "afspraken", a.added_by_org()}, a.description());
  v.set_description(ShownText(text));
  return v;
}

absl::StatusOr<v1::CaseView> CaseDesk::Show(const v1::ShowCaseRequest& request, const std::string& trace_id,
                                            Deadline deadline) {
  ASSIGN_OR_RETURN(Held held, Hold(request.case_id()));
  v1::ReadCaseRequest req;
  req.set_case_id(request.case_id());
  // Page by page, as the convener answers (each page decided and logged there).
  ASSIGN_OR_RETURN(v1::ReadCaseResponse read, peers_.ReadCase(held.convener, req, trace_id, deadline));
  for (int pages = 1; !read.next().empty() || !read.next_action().empty(); ++pages) {
    if (pages >= kMaxReadPages) return Error(Reason::kMalformedRequest, "case: more pages than a case can have");
    req.set_after(read.next());
    req.set_after_action(read.next_action());
    ASSIGN_OR_RETURN(v1::ReadCaseResponse more, peers_.ReadCase(held.convener, req, trace_id, deadline));
    // Each page must move on: a convener that repeats itself is not followed.
    if (more.contributions_size() + more.withheld_size() + more.actions_size() == 0 ||
        (!more.next().empty() && more.next() == req.after()) ||
        (!more.next_action().empty() && more.next_action() == req.after_action())) {
      return Error(Reason::kMalformedRequest, "case: the convener's pages do not advance");
    }
    for (auto& c : *more.mutable_contributions()) *read.add_contributions() = std::move(c);
    for (auto& w : *more.mutable_withheld()) *read.add_withheld() = std::move(w);
    for (auto& a : *more.mutable_actions()) *read.add_actions() = std::move(a);
    *read.mutable_index() = more.index();
    read.set_next(more.next());
    read.set_next_action(more.next_action());
  }
  // Shown by due date (the convener pages them in id order).
  std::sort(read.mutable_actions()->begin(), read.mutable_actions()->end(), [](const auto& a, const auto& b) {
    return std::make_tuple(a.due_ms(), a.action_id()) < std::make_tuple(b.due_ms(), b.action_id());
  });
  v1::CaseView view;
  *view.mutable_index() = read.index();  // as the convener keeps it: states, members, times
  view.set_title(held.secrets.title());
  view.set_regisseur(held.secrets.regisseur());
  view.set_purpose(held.secrets.purpose());
  view.set_legal_basis(held.secrets.legal_basis());
  const std::string& key = held.secrets.case_key();
  for (const v1::CaseContribution& c : read.contributions()) {
    v1::ContributionView& v = *view.add_contributions();
    v.set_contribution_id(c.contribution_id());
    v.set_author_org(c.author_org());
    v.set_author_role(c.author_role());
    v.set_category(c.category());
    v.set_legal_basis(c.legal_basis());
    v.set_time_ms(c.time_ms());
    auto text = OpenText(key, {"contribution", request.case_id(), c.contribution_id(), c.category(), c.author_org()},
                         c.text());
    v.set_text(ShownText(text));
  }
  *view.mutable_withheld() = read.withheld();
  for (const v1::CaseAction& a : read.actions()) *view.add_actions() = ViewOf(a, request.case_id(), key);
  return view;
}

absl::StatusOr<v1::CaseActionView> CaseDesk::SetAction(const v1::SetActionRequest& request,
                                                       const std::string& trace_id, Deadline deadline) {
  const bool adding = request.action_id().empty();  // REQUIRES: edge::Check(request).ok()
  ASSIGN_OR_RETURN(Held held, Hold(request.case_id()));
  v1::SetCaseActionRequest req;
  req.set_case_id(request.case_id());
  v1::CaseAction& a = *req.mutable_action();
  a.set_action_id(adding ? CaseBook::NewId() : request.action_id());
  a.set_status(request.status());
  a.set_due_ms(request.due_ms());
  if (adding) {
    a.set_owner_org(request.owner_org());
    a.set_owner_staff(request.owner_staff());
    *a.mutable_description() = SealText(held.secrets.case_key(),
                                        {"action", request.case_id(), a.action_id(), "afspraken", network_.self_org()},
                                        request.description());
  }
  ASSIGN_OR_RETURN(v1::SetCaseActionResponse resp, peers_.SetCaseAction(held.convener, req, trace_id, deadline));
  return ViewOf(resp.action(), request.case_id(), held.secrets.case_key());
}

absl::StatusOr<v1::CloseCaseLocalResponse> CaseDesk::Close(const v1::CloseCaseLocalRequest& request,
                                                           const std::string& trace_id, Deadline deadline) {
  ASSIGN_OR_RETURN(Held held, Hold(request.case_id()));
  if (held.index.convener_org() != network_.self_org()) {
    return Error(Reason::kNotCaseMember, "case: only its convener closes it");
  }
  v1::CloseCaseRequest req;
  req.set_case_id(request.case_id());
  ASSIGN_OR_RETURN(v1::CloseCaseResponse resp, peers_.CloseCase(held.convener, req, trace_id, deadline));
  v1::CloseCaseLocalResponse response;
  response.set_destroy_at_ms(resp.destroy_at_ms());
  return response;
}

}  // namespace casenode::node
