"""Auditors: run the verifier and see its verdict, the checkpoint history, and the anchors
with the proofs behind them (consistency proofs between checkpoints, contribution roots).

The verification here runs inside the gateway (which holds the ledger); an auditor who
trusts nothing of ours runs ``dexin audit export`` and ``dexin audit verify --export`` on
their own machine with the log key they pinned — the page says so.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from audit import AuditError, BundleStore, Trust, VerificationError, verify_snapshot
from dexin.app import open_audit_reader
from governance import LedgerAnchorer, Role, policy_from_engine
from query_gateway.console.route import console_router, render
from query_gateway.console.state import console_state
from query_gateway.gateway import Services
from query_gateway.policy import policy

routes = console_router()
AUDITORS = (Role.AUDITOR, Role.ADMIN)
SHOWN = 20  # checkpoints shown, newest first


def history(settings: Any) -> list[dict[str, Any]]:
    store = BundleStore(settings.audit_dir / "cosignatures")
    bundles = set(store.sizes()) if store.directory.exists() else set()
    with open_audit_reader(settings) as reader:  # the PostgreSQL log or the file log
        if not reader.exists:
            return []
        sizes = reader.sizes()[-SHOWN:]
        rows = []
        for i, size in enumerate(sizes):
            signed = reader.checkpoint(size)
            old = sizes[i - 1] if i else 0
            proof = reader.consistency_proof(old, size) if 0 < old < size else []
            anchor = store.load(size).anchor if size in bundles else None
            rows.append({"size": size, "root": signed.checkpoint.root.hex(), "old": old,
                         "proof": [h.hex() for h in proof], "anchor": anchor})  # fmt: skip
    return list(reversed(rows))


def contribution_anchors(gw: Services) -> list[dict[str, Any]]:
    records = gw.vault.contributions()  # a cursor of its own: never waits for an ingest
    return [{"provider": r["provider"], "table": r["table_name"], "rows": r["accepted"],
             "root": r["merkle_root"], "anchor": r.get("anchor")}
            for r in records if r["status"] == "accepted"]  # fmt: skip


@routes.get("/console/auditor", openapi_extra=policy(*AUDITORS))
def auditor(request: Request) -> Response:
    gw, state = console_state(request)
    size, root = gw.consents.state()
    return render(request, "auditor.html", checkpoints=history(state.settings),
                  contributions=contribution_anchors(gw), verdict=None,
                  consent_log={"size": size, "root": root.hex(),
                               "anchor": gw.consents.last_anchor()})  # fmt: skip


def run_verification(gw: Services, settings: Any) -> dict[str, Any]:
    try:
        with open_audit_reader(settings) as reader:
            if not reader.exists:
                return {"ok": True, "entries": 0, "notes": ["the log is empty"]}
            snap = reader.snapshot()
            sources = policy_from_engine(gw.ledger, gw.engine)
            verdict = verify_snapshot(snap, Trust(log_key=None), anchorer=LedgerAnchorer(gw.ledger),
                                      policy=sources.policy, require_anchor=False, workers=1)  # fmt: skip
            verdict.notes[:0] = sources.notes
    except VerificationError as exc:
        return {"ok": False, "check": exc.check, "problem": exc.describe()}
    except AuditError as exc:
        return {"ok": False, "check": type(exc).__name__, "problem": str(exc)}
    return verdict.as_json()


@routes.post("/console/auditor/verify", openapi_extra=policy(*AUDITORS))
def verify(request: Request) -> Response:
    gw, state = console_state(request)
    verdict = run_verification(gw, state.settings)
    request.state.audit["reason"] = None if verdict["ok"] else "verification_failed"
    if request.headers.get("hx-request"):
        return render(request, "verdict.html", verdict=verdict)
    size, root = gw.consents.state()
    return render(request, "auditor.html", checkpoints=history(state.settings),
                  contributions=contribution_anchors(gw), verdict=verdict,
                  consent_log={"size": size, "root": root.hex(),
                               "anchor": gw.consents.last_anchor()})  # fmt: skip
