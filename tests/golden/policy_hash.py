#!/usr/bin/env python3
"""Independent computation of the casenode policy hash (format casenode-policy/v7).

Written from the format description in policy/README.md, not from policy/internal/canonical.cc,
to cross-check the golden hash in tests/unit/policy_test.cc:

    python3 tests/golden/policy_hash.py policy/network [--local FILE ...] [--bytes]

It does not validate the policy (casectl does); it only encodes it.
"""
import argparse
import hashlib
import pathlib
import struct
import tomllib

KINDS = ["roles", "actions", "purposes", "categories", "legal_bases"]


class Writer:
    def __init__(self, domain: str):
        self.out = bytearray()
        self.string(domain)

    def string(self, s: str):
        b = s.encode()
        self.out += struct.pack(">I", len(b)) + b

    def u64(self, v: int):
        self.out += struct.pack(">Q", v)

    def flag(self, v: bool):
        self.u64(1 if v else 0)

    def list(self, items):
        items = sorted(i.encode() for i in items)
        self.out += struct.pack(">I", len(items))
        for b in items:
            self.out += struct.pack(">I", len(b)) + b


def encode(network_dir: str, local_files) -> bytes:
    name, vocab, consent, signals, cases, audit, quotas, rules = "", None, {}, {}, {}, {}, {}, []
    for path in sorted(pathlib.Path(network_dir).glob("*.toml")):
        doc = tomllib.loads(path.read_text())
        name = doc.get("policy", {}).get("name", name)
        vocab = doc.get("vocabulary", vocab)
        consent = doc.get("consent", consent)
        signals = doc.get("signals", signals)
        cases = doc.get("cases", cases)
        audit = doc.get("audit", audit)
        quotas.update(doc.get("quota", {}))
        rules += [(r, False) for r in doc.get("rule", [])]
    for path in local_files:
        rules += [(r, True) for r in tomllib.loads(pathlib.Path(path).read_text()).get("rule", [])]

    w = Writer("casenode-policy/v7")
    w.string(name)
    for k in KINDS:
        w.list(vocab[k])
    w.u64(consent.get("status_cache_seconds", 60))
    w.flag(consent.get("on_issuer_unreachable", "deny") == "allow_stale")
    w.u64(consent.get("max_stale_seconds", 3600))
    w.u64(signals.get("retention_seconds", 63072000))
    roles = signals.get("categories", {})
    w.u64(len(roles))
    for role in sorted(roles, key=str.encode):
        w.string(role)
        w.list(set(roles[role]))
    w.u64(cases.get("retention_seconds", 63072000))
    w.u64(cases.get("member_contributions", 200))
    w.u64(cases.get("member_agreements", 50))
    w.u64(cases.get("member_bytes", 1048576))
    w.u64(audit.get("witnesses", 2))
    w.u64(len(quotas))
    for action in sorted(quotas, key=str.encode):
        q = quotas[action]
        roles = sorted((k for k in q if k != "alarm_percent"), key=str.encode)
        w.string(action)
        w.u64(q.get("alarm_percent", 80))
        w.u64(len(roles))
        for role in roles:
            w.string(role)
            w.u64(q[role]["per_minute"])
            w.u64(q[role]["per_day"])
    w.u64(len(rules))
    for r, local in sorted(rules, key=lambda rl: rl[0]["id"].encode()):
        w.string(r["id"])
        w.string(r["effect"])
        w.flag(local)
        for k in ["roles", "orgs"] + KINDS[1:]:
            w.list(r.get(k, []))
        w.flag(r.get("consent", "not_required") == "required")
        w.list(r.get("conditions", []))
        w.u64(r.get("rate_limit_per_minute", 0))
    return bytes(w.out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("network_dir")
    ap.add_argument("--local", action="append", default=[])
    ap.add_argument("--bytes", action="store_true", help="print the canonical bytes in hex too")
    args = ap.parse_args()
    b = encode(args.network_dir, args.local)
    if args.bytes:
        print(b.hex())
    print(hashlib.sha256(b).hexdigest())


if __name__ == "__main__":
    main()
