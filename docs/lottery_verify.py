#!/usr/bin/env python3
"""Recompute a lottery draw from its publication, independently of the
product: docs/lottery.md gives the algorithm in words.

    python3 docs/lottery_verify.py lottery.json

lottery.json is what /campaigns/{id}/lottery.json publishes after the draw:
{"commitment": hex, "seed": hex, "tiers": [{"tier_id", "stock",
"registrations": [ids], "winners": [ids]}]}. It prints each tier's winners
and exits 1 if the commitment or any tier's winners disagree.
"""
import hashlib
import json
import sys


def score(seed_hex, tier_id, registration_id):
    text = "%s:%d:%d" % (seed_hex, tier_id, registration_id)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def winners(seed_hex, tier_id, stock, registrations):
    order = sorted(registrations, key=lambda r: (score(seed_hex, tier_id, r), r))
    return order[:max(0, stock)]


def main(path):
    with open(path, encoding="utf-8") as f:
        pub = json.load(f)
    seed = pub["seed"]
    ok = hashlib.sha256(seed.encode("ascii")).hexdigest() == pub["commitment"]
    if not ok:
        print("commitment does not match the seed")
    for t in pub["tiers"]:
        got = winners(seed, t["tier_id"], t["stock"], t["registrations"])
        print("tier %d: %s" % (t["tier_id"], " ".join(str(w) for w in got)))
        if got != t["winners"]:
            print("tier %d: the published winners differ" % t["tier_id"])
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
