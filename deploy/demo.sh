#!/usr/bin/env bash
# The main job: installs, builds, creates a local network of five real nodes
# (school, jeugdhulp, politie, gemeente, auditor) on loopback, plays the user
# stories that exist so far with casectl, says what happens, and stops the nodes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export CASENODE_BUILD=${CASENODE_BUILD:-$root/build}
"$root/deploy/build.sh" "$CASENODE_BUILD" >/dev/null
casectl="$CASENODE_BUILD/cli/casectl"
dir=$(mktemp -d /tmp/casenode-demo.XXXXXX)
demo_policy=$(mktemp -d /tmp/casenode-demo-policy.XXXXXX)
trap '"$root/deploy/network.sh" down "$dir" 2>/dev/null; rm -rf "$dir" "$demo_policy"' EXIT
say() { printf '\n== %s\n' "$*"; }

say "The network operator creates a regional network: a CA, an operator key, a signed manifest, five nodes"
# The network policy as shipped, except that a closed casusoverleg is kept
# 20 seconds instead of two years, so the demo can show its destruction.
for f in "$root"/policy/network/*.toml; do
  sed 's/^retention_seconds = 63072000  # two years after closing$/retention_seconds = 20  # demo: twenty seconds/' \
    "$f" > "$demo_policy/$(basename "$f")"
done
"$casectl" network init "$dir" --policy "$demo_policy" --base-port "${CASENODE_BASE_PORT:-7101}"

say "Each organisation starts its own casenode (mTLS Peer listener, Local socket for its staff)"
"$root/deploy/network.sh" up "$dir"

say "Every node checks that it can reach and authenticate the other four"
for org in school jeugdhulp politie gemeente auditor; do
  "$casectl" --socket "$dir/$org/local.sock" node status
done

say "The school pings the gemeente through the Peer service"
"$casectl" --socket "$dir/school/local.sock" node ping gemeente

say "The school's question: is this pupil already known in the network? (no BSN ever leaves a node)"
# A demo BSN (passes the elfproef). Staff type it at a prompt without echo, or
# pipe it in: a BSN is never a command-line argument.
bsn=123456782
school=(--socket "$dir/school/local.sock")
jeugdhulp=(--socket "$dir/jeugdhulp/local.sock")
echo "The school checks the pupil: the pseudonym is derived with 2 of the 3 key holders, then every"
echo "organisation that takes part in signal matching is asked:"
echo "$bsn" | "$casectl" "${school[@]}" signal check
echo "Jeugdhulp registers a signal on the same child, with its contact point:"
printf '%s\n%s\n' "$bsn" "M. Bakker, Jeugdhulp Flevoland, 036-5399999" |
  "$casectl" "${jeugdhulp[@]}" signal register --category zorg
echo "The school checks again: a match, with jeugdhulp's contact point (never content):"
echo "$bsn" | "$casectl" "${school[@]}" signal check
echo "The school registers its own signal; both sides are told about the match:"
printf '%s\n%s\n' "$bsn" "J. de Vries, OBS De Regenboog, 036-5211111" |
  "$casectl" "${school[@]}" signal register --category onderwijs
for _ in $(seq 50); do  # the notice is delivered in the background
  "$casectl" "${school[@]}" inbox | grep -q delivered && break
  sleep 0.1
done
echo "school's inbox:";    "$casectl" "${school[@]}" inbox
echo "jeugdhulp's inbox:"; "$casectl" "${jeugdhulp[@]}" inbox
echo "Jeugdhulp's node stops. The school's check is incomplete and says who did not answer; the"
echo "pseudonym still derives from the two other key holders:"
"$root/deploy/network.sh" down "$dir" jeugdhulp
echo "$bsn" | "$casectl" "${school[@]}" signal check || echo "(exit $?: incomplete)"
echo "Jeugdhulp returns, and the match is there again:"
"$root/deploy/network.sh" up "$dir" jeugdhulp
echo "$bsn" | "$casectl" "${school[@]}" signal check
echo "A mistyped BSN is refused before any call, without repeating it:"
echo 123456789 | "$casectl" "${school[@]}" signal check || true

say "Doelbinding: every Peer call is decided by the network policy, whose hash the manifest signs"
"$casectl" --socket "$dir/gemeente/local.sock" policy show
echo "The privacy officer runs the policy's own tests:"
"$casectl" policy test "$root/policy/network/tests" | tail -1
echo "May a school read criminal-law information in a casusoverleg? The policy explains:"
cat > "$dir/request.json" <<'JSON'
{"org": "school", "role": "school", "action": "case.read", "purpose": "casusoverleg",
 "categories": ["justitieel"], "legal_basis": "legal_duty", "case_member": true, "case_active": true}
JSON
"$casectl" policy explain "$dir/request.json" --policy "$dir/network/policy" | head -3
echo "And the gemeente reading health data on a revoked consent receipt:"
cat > "$dir/request.json" <<'JSON'
{"org": "gemeente", "role": "gemeente", "action": "case.read", "purpose": "casusoverleg",
 "categories": ["zorg"], "legal_basis": "consent", "case_member": true, "case_active": true,
 "consents": [{"id": "tr-1", "status": "revoked", "purposes": ["casusoverleg"], "categories": ["zorg"],
               "recipient_roles": ["gemeente"]}]}
JSON
"$casectl" policy explain "$dir/request.json" --policy "$dir/network/policy" | head -1

say "Consent: jeugdhulp records a parent's and child's consent; the gemeente verifies it with jeugdhulp"
subject=c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00   # the child's network pseudonym
"$casectl" --socket "$dir/jeugdhulp/local.sock" -o json consent record --subject "$subject" \
  --consenter parent --consenter child --birth-date "$(date -d "13 years ago - 2 months" +%F)" \
  --purpose casusoverleg --category zorg \
  --recipient-role gemeente --recorded-by staff-7f3a --evidence DMS-2026-0042 > "$dir/receipt.json"
receipt_id=$(sed -n 's/.*"receipt_id": "\([0-9a-f]*\)".*/\1/p' "$dir/receipt.json")
"$casectl" --socket "$dir/jeugdhulp/local.sock" consent show "$receipt_id"
"$casectl" --socket "$dir/gemeente/local.sock" consent verify "$dir/receipt.json" || true
echo "The parents withdraw their consent; after the cache time in the policy every verifier sees it:"
"$casectl" --socket "$dir/jeugdhulp/local.sock" consent revoke "$receipt_id" --revoked-by staff-7f3a | head -1
"$casectl" --socket "$dir/jeugdhulp/local.sock" consent verify "$dir/receipt.json" || true

say "The gemeente's casusoverleg: a case only its members see, read per data category, destroyed on time"
gemeente=(--socket "$dir/gemeente/local.sock")
politie=(--socket "$dir/politie/local.sock")
echo "The regisseur records the parents' consent for youth care and the gemeente to share health data:"
case_subject=$(echo "$bsn" | "$casectl" "${gemeente[@]}" -o json pseudonym derive --purpose casusoverleg |
  sed -n 's/.*"pseudonym": "\([0-9a-f]*\)".*/\1/p')
"$casectl" "${gemeente[@]}" -o json consent record --subject "$case_subject" --consenter parent \
  --birth-date "$(date -d "10 years ago" +%F)" --purpose casusoverleg --category zorg \
  --recipient-role jeugdhulp --recipient-role gemeente --recorded-by rg-01 > "$dir/ouders.json"
case_receipt=$(sed -n 's/.*"receipt_id": "\([0-9a-f]*\)".*/\1/p' "$dir/ouders.json")
echo "and convenes a case with school, jeugdhulp and politie (BSN and title on standard input):"
case_id=$(printf '%s\n%s\n' "$bsn" "Zorgen over schoolverzuim en thuissituatie" |
  "$casectl" "${gemeente[@]}" -o json case convene --regisseur rg-01 --invite school --invite jeugdhulp \
    --invite politie --consent "$dir/ouders.json" | sed -n 's/.*"case_id": "\([0-9a-f]*\)".*/\1/p')
echo "Each invitee finds the invitation in its inbox, and accepts (its own policy decides too):"
for org in school jeugdhulp politie; do
  for _ in $(seq 100); do
    "$casectl" --socket "$dir/$org/local.sock" case list | grep -q "$case_id.*invited" && break
    sleep 0.1
  done
  "$casectl" --socket "$dir/$org/local.sock" case list
  "$casectl" --socket "$dir/$org/local.sock" case accept "$case_id"
done
echo "Each contributes what it may share, one data category each (text on standard input):"
echo "Verzuim 40% sinds september; mentor ziet een teruggetrokken leerling." |
  "$casectl" "${school[@]}" case contribute "$case_id" --category onderwijs
echo "In behandeling bij ambulant team; ouders werken mee." |
  "$casectl" "${jeugdhulp[@]}" case contribute "$case_id" --category zorg --legal-basis consent
echo "Twee meldingen huiselijk geweld op het adres in 2026." |
  "$casectl" "${politie[@]}" case contribute "$case_id" --category justitieel --legal-basis legal_duty
echo "The regisseur sees all three; the police information is for the regisseur and politie only:"
"$casectl" "${gemeente[@]}" case show "$case_id"
echo "The school sees its own; what it may not read is listed as withheld, with the reason:"
"$casectl" "${school[@]}" case show "$case_id"
echo "An agreement: who takes it up, by when (this one is already overdue, and flagged so):"
echo "Gezinsgesprek plannen met ouders en mentor" |
  "$casectl" "${gemeente[@]}" case action add "$case_id" --owner-org jeugdhulp --owner jh-07 \
    --due "$(date -d yesterday +%F)"
"$casectl" "${jeugdhulp[@]}" case action list "$case_id"
"$casectl" "${gemeente[@]}" case list
echo "The parents withdraw their consent: from the next read on, the health data is withheld:"
"$casectl" "${gemeente[@]}" consent revoke "$case_receipt" --revoked-by rg-01 | head -1
"$casectl" "${jeugdhulp[@]}" case show "$case_id" | sed -n '/^contributions:/,/^agreements:/p'
echo "The regisseur closes the case; its bewaartermijn (20 seconds in this demo network) starts:"
"$casectl" "${gemeente[@]}" case close "$case_id"
for _ in $(seq 600); do
  "$casectl" "${gemeente[@]}" -o json case list | grep -q '"state": "destroyed"' &&
    ! "$casectl" "${gemeente[@]}" -o json case list | grep -q '"destroyed": false' && break
  sleep 0.1
done
echo "When it ends, the convener crypto-shreds the case and every member destroys its copy of the key:"
for org in gemeente school jeugdhulp politie; do
  "$casectl" --socket "$dir/$org/local.sock" case list
done
"$casectl" "${gemeente[@]}" case show "$case_id" || echo "(exit $?: the case is gone)"

say "The auditor's replay: every node's decisions are in a Merkle log its peers witness"
auditor=(--socket "$dir/auditor/local.sock")
echo "The auditor verifies each node's log against a checkpoint cosigned by its witnesses, then decides"
echo "every logged decision again under the policy text the log recorded for it:"
for org in school jeugdhulp politie gemeente; do
  "$casectl" "${auditor[@]}" audit replay --node "$org" 2>/dev/null | tail -2
done
echo "Every Peer call is in the caller's log and in the callee's: the auditor pairs them across the network:"
"$casectl" "${auditor[@]}" audit reconcile --settle 3 2>/dev/null | tail -3
echo "A parent asks what the network did with their child's data (AVG art. 15). The auditor's"
echo "inzage, BSN on standard input, proved against every node's witnessed log:"
echo "$bsn" | "$casectl" "${auditor[@]}" audit inzage 2>/dev/null || true
echo "Key holders count every pseudonym derivation per organisation and day; an organisation nearing"
echo "its quota (enumerating children) is reported to the auditor:"
"$casectl" "${auditor[@]}" audit alarms
echo "gemeente's IT restores its records from last night's backup (made here, before more work):"
gemeente=(--socket "$dir/gemeente/local.sock")
"$casectl" "${gemeente[@]}" node backup "$dir/gemeente-backup" >/dev/null
for _ in 1 2 3; do echo "$bsn" | "$casectl" "${school[@]}" signal check >/dev/null; done
"$casectl" "${auditor[@]}" audit verify --node gemeente 2>/dev/null | tail -1
"$root/deploy/network.sh" down "$dir" gemeente
mv "$dir/gemeente/data/records" "$dir/gemeente-records-current"
(cd "$dir/gemeente" && "$CASENODE_BUILD/node/casenode" --config casenode.toml --restore "$dir/gemeente-backup")
"$root/deploy/network.sh" up "$dir" gemeente
for _ in $(seq 100); do  # the witnesses answer the restarted node's first checkpoint
  "$casectl" "${gemeente[@]}" node status 2>/dev/null | grep -q BEHIND && break
  sleep 0.1
done
echo "The restored node learns from its witnesses that they hold more of its log than it has:"
"$casectl" "${gemeente[@]}" node status | grep -A4 "audit log" || true
echo "and the auditor sees the rollback (exit 1):"
"$casectl" "${auditor[@]}" audit verify --node gemeente 2>/dev/null | grep -E "PROBLEM|CLEAN" || true
echo "The real records go back; the log verifies again:"
"$root/deploy/network.sh" down "$dir" gemeente
rm -rf "$dir/gemeente/data/records"
mv "$dir/gemeente-records-current" "$dir/gemeente/data/records"
"$root/deploy/network.sh" up "$dir" gemeente
"$casectl" "${auditor[@]}" audit verify --node gemeente 2>/dev/null | tail -1

say "The operator removes politie from the network (manifest version 2); the others reload"
cp "$dir/network/manifest.json" "$dir/manifest-v1.json"
cp "$dir/network/manifest.json.sig" "$dir/manifest-v1.json.sig"
"$casectl" network remove "$dir" politie
for org in school jeugdhulp gemeente auditor; do
  "$casectl" --socket "$dir/$org/local.sock" node reload >/dev/null
done
echo "politie still runs, but every other node now refuses it:"
"$casectl" --socket "$dir/politie/local.sock" node status || true
echo "Someone puts the old manifest (which still lists politie) back; every node remembers version 2:"
cp "$dir/manifest-v1.json" "$dir/network/manifest.json"
cp "$dir/manifest-v1.json.sig" "$dir/network/manifest.json.sig"
(cd "$dir/school" && "$CASENODE_BUILD/node/casenode" --config casenode.toml --check-config) || true

say "Stopping the network"
"$root/deploy/network.sh" down "$dir"
trap 'rm -rf "$dir"' EXIT
echo "demo finished: five nodes were up and authenticated to each other under a signed policy;"
echo "a school learnt whether a pupil was known without any node seeing the BSN, and was told"
echo "plainly when an organisation did not answer; the gemeente convened a casusoverleg whose members"
echo "each read only what their role may, until consent was withdrawn and the case was destroyed;"
echo "the policy explained its decisions; an auditor"
echo "verified every node's witnessed log and re-decided every decision, and caught a node restored"
echo "from an old backup; a removed node was refused, also after its old manifest came back."
