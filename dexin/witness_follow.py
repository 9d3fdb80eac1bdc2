"""``dexin audit witness --follow``: a long-running witness of a gateway's audit log.

Each round: fetch the checkpoint the gateway collects cosignatures for, fetch a consistency
proof from the last checkpoint this witness cosigned, and let `audit.witness.Witness.cosign`
check both against what the witness holds — the **pinned** log key and its own last
checkpoint, never anything the gateway says about itself — before it signs and the
cosignature is posted. A split view is refused and ends the follower (exit 1): it is the
event witnesses exist to catch, and the witness's state is left as it was.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

import httpx

from audit import AuditError, SignedCheckpoint, Witness, WitnessError, cosignature_document
from dexin_client import DexinClient, GatewayProblem

__all__ = ["follow", "witness_once"]


def witness_once(
    witness: Witness, gateway: DexinClient, submitted: int | None = None
) -> tuple[str, int | None]:
    """One round: a one-line report and the size cosigned and submitted (None if nothing
    was). ``submitted``: a size this follower already submitted (not submitted again).
    Raises WitnessError (SplitViewError, or a note not signed by the pinned key),
    GatewayProblem / httpx.HTTPError when the gateway refuses or cannot be reached,
    AuditError on a malformed checkpoint."""
    note = gateway.checkpoint_to_cosign()
    if note is None:
        return "nothing to cosign yet", None
    signed = SignedCheckpoint.parse(note)
    size, last = signed.checkpoint.size, witness.last()
    if last is not None and last.checkpoint == signed.checkpoint and size == submitted:
        return f"checkpoint {size} already cosigned; waiting for the next", None
    if last is not None and size < last.checkpoint.size:
        return (
            f"asked for checkpoint {size}, older than the last cosigned ({last.checkpoint.size})",
            None,
        )
    old = 0 if last is None else last.checkpoint.size
    proof = gateway.consistency_proof(old, size) if 0 < old < size else []
    cosignature = witness.cosign(signed, proof)
    try:
        gateway.submit_cosignature(cosignature_document(cosignature))
    except GatewayProblem as exc:
        if exc.reason != "already_anchored":
            raise
        return f"checkpoint {size} is anchored already", size
    return f"cosigned checkpoint {size} (extends {old}) and submitted it", size


def follow(
    witness: Witness,
    gateway: DexinClient,
    interval: float,
    say: Callable[[str], None],
    rounds: int | None = None,
) -> None:
    """Run a round every ``interval`` seconds until interrupted (or ``rounds`` are done),
    saying one line per round. Raises WitnessError (a split view); anything else — the
    gateway refusing or unreachable, a malformed answer — is said and retried."""
    submitted: int | None = None
    for n in itertools.count():
        if rounds is not None and n >= rounds:
            return
        if n:
            time.sleep(interval)
        try:
            report, size = witness_once(witness, gateway, submitted)
        except WitnessError:
            raise
        except (GatewayProblem, httpx.HTTPError, AuditError) as exc:
            say(f"round failed, retrying in {interval:g} s: {exc}")
            continue
        submitted = size or submitted
        say(report)
