"""What DPoP costs per answer (issue 17): the gateway's check of a proof, the bank's making of
one, and the client assertion at the token endpoint, in this process, on one core.

    .venv/bin/python bench/dpop.py [--proofs 5000]

Every bank answer now carries a DPoP proof (RFC 9449) that the gateway verifies before
anything else: ES256 over the proof, its claims, the token's hash, the ``jti`` cache
(`governance.verify_proof`). `bench/gateway.py` prints this figure beside the gateway's and
the floor's time per request under load (`proof_cost`).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

URL = "http://127.0.0.1:8000/v1/scores"
TOKEN = "dx1." + "A" * 200  # a sealed token's length; its content does not matter here


@dataclass(frozen=True)
class ProofCost:
    """Microseconds of CPU per answer."""

    check_us: float  # the gateway: verify one proof (signature, claims, ath, jti cache)
    make_us: float  # the bank: make one proof (ES256, dexin_client)
    assertion_us: float  # the gateway: verify one client assertion (once per token)


def proof_cost(n: int = 2000) -> ProofCost:
    """Time ``n`` proofs made by `dexin_client` and checked by `governance.verify_proof`,
    and ``n // 10`` client assertions checked by `governance.client_keys`."""
    from dexin_client import ClientKey
    from governance import ReplayCache, parse_jwks, verify_assertion, verify_proof

    key = ClientKey.generate().registered("bank_0000000000000000")
    start = time.perf_counter()
    proofs = [key.proof("POST", URL, TOKEN) for _ in range(n)]
    made = (time.perf_counter() - start) / n
    replay = ReplayCache()
    start = time.perf_counter()
    for proof in proofs:
        verify_proof(proof, method="POST", url=URL, replay=replay, access_token=TOKEN)
    checked = (time.perf_counter() - start) / n
    keys, issuer = parse_jwks(key.public_jwks()), "http://127.0.0.1:8000"
    assertions = [key.assertion(issuer) for _ in range(max(n // 10, 1))]
    start = time.perf_counter()
    for assertion in assertions:
        verify_assertion(assertion, client_id=key.client_id, keys=keys, issuer=issuer,
                         replay=replay)  # fmt: skip
    asserted = (time.perf_counter() - start) / len(assertions)
    return ProofCost(checked * 1e6, made * 1e6, asserted * 1e6)


def describe(cost: ProofCost, per_request_us: dict[str, float] | None = None) -> str:
    """One line: the check's cost, and its share of each named time per request."""
    beside = "".join(f"; {cost.check_us / us:.0%} of the {name}'s {us:.0f} us per request"
                     for name, us in (per_request_us or {}).items())  # fmt: skip
    return (f"DPoP: the gateway checks a proof in {cost.check_us:.0f} us of CPU per answer"
            f"{beside}; the bank makes one in {cost.make_us:.0f} us; a client assertion "
            f"(once per token) is checked in {cost.assertion_us:.0f} us")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--proofs", type=int, default=5000)
    args = parser.parse_args()
    proof_cost(200)  # warm-up: imports, first key
    print(describe(proof_cost(args.proofs)))


if __name__ == "__main__":
    main()
