"""What `dexin audit verify` checks on a data directory beyond the log itself.

- the access policy's records: given as files, or built from the ledger and the anchored
  consent log (`governance.audit_sources`);
- that every accepted contribution's root is anchored on the ledger with its row count and
  receipt, and every provider-signed one's signature verifies against the key registered
  for the provider then: from the vault itself, or, while the gateway owns it, from the
  receipts the vault publishes beside itself (``receipts.json``, which carries each signed
  statement; a note says the rows were not recomputed);
- that every dispute was answered within its 20 days, from the anchored dispute log
  (`governance.dispute_audit`): a dispute answered late or never is named;
- that every repair and every deletion by a dispute's answer in the vault is a leaf of the
  anchored dispute log, and every such leaf a change the vault holds
  (`governance.row_change_audit`; while the gateway holds the vault, the control plane's
  granted repairs and deleting answers stand for it, and the note says so), and that every
  provider's answer to a dispute carries its signature, verified against the key registered
  for it then (`governance.answer_signatures`), and so every provider's filing or decision
  of a credit repair (`governance.repair_signatures`).

Errors are typed; the CLI maps them to messages and exit codes.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy.engine import Engine

from audit import AccessPolicy, RecordedPolicy, VerificationError
from dexin.app import open_vault, opened_control_plane, vault_config
from dexin.settings import Settings
from governance import (
    ProviderKeys,
    RowChange,
    answer_signature_problems,
    open_engine,
    provider_keys,
    recorded_changes,
    repair_signature_problems,
    row_change_findings,
    sourced_policy,
    unanchored_contributions,
    unanchored_receipts,
    vault_changes,
)
from governance import dispute_deadlines as deadline_findings
from ledger import Ledger
from vault import RECEIPTS_FILE, VaultBusy, VaultError, VaultNotInitialised, row_changes

__all__ = [
    "access_policy",
    "consent_evidence",
    "contribution_anchors",
    "dispute_changes",
    "dispute_deadlines",
]  # fmt: skip


def access_policy(settings: Settings, ledger: Ledger | None, approvals: Path | None,
                  consents: Path | None, export: Path | None) -> tuple[AccessPolicy | None, list[str]]:  # fmt: skip
    """Records given as files; else, on the data directory, the ledger's approvals and the
    anchored consent log; else none. Raises VerificationError (``consent-log``),
    SQLAlchemyError (the control plane cannot be read), LedgerError."""
    if approvals and consents:
        given = "access policy from the records given (--approvals, --consents), not authenticated"
        return RecordedPolicy.from_files(approvals, consents), [given]
    if export is not None or ledger is None:
        return None, []
    sources = sourced_policy(ledger, settings.gateway.database_url)
    return sources.policy, sources.notes


def contribution_anchors(settings: Settings, ledger: Ledger) -> str:
    """A note saying every contribution root is anchored, or why it was not checked.
    Raises VerificationError (``contribution-anchor``) naming the first one that is not."""
    with opened_control_plane(settings) as control:
        keys = provider_keys(control)
    try:
        with open_vault(settings) as vault:
            problems = unanchored_contributions(ledger, vault, keys)
            records = vault.contributions()
            count, signed = len(records), sum(r["origin"] == "provider" for r in records)
    except VaultBusy:  # the gateway holds the vault: check the receipts it publishes
        return _published_anchors(settings, ledger, keys)
    except VaultNotInitialised:
        return "contribution anchors not checked: no vault in this data directory"
    except VaultError as exc:  # e.g. the master key is not available to this process
        return f"contribution anchors not checked: {exc}"
    if problems:
        raise VerificationError("contribution-anchor", problems[0],
                                actual=f"{len(problems)} not anchored")  # fmt: skip
    return f"every contribution root is anchored ({count} contributions)" + _signed_note(signed)


def _published_anchors(settings: Settings, ledger: Ledger, keys: ProviderKeys) -> str:
    receipts = vault_config(settings).root / RECEIPTS_FILE
    if not receipts.exists():
        return ("contribution anchors not checked: the gateway holds the vault and it has "
                "published no receipts (dexin ledger verify once it stops)")  # fmt: skip
    count, problems = unanchored_receipts(ledger, receipts, keys)
    if problems:
        raise VerificationError("contribution-anchor", problems[0],
                                actual=f"{len(problems)} not anchored")  # fmt: skip
    return (f"every published contribution root is anchored ({count} accepted; the gateway holds "
            "the vault, so rows were not recomputed: dexin ledger verify once it stops)"
            + _signed_note(_signed_receipts(receipts)))  # fmt: skip


def _signed_receipts(receipts: Path) -> int:
    records = json.loads(receipts.read_text(encoding="utf-8"))["receipts"]
    return sum(r.get("origin") == "provider" for r in records)


def _signed_note(signed: int) -> str:
    """What the note adds when providers signed some contributions (issue 17)."""
    if not signed:
        return ""
    return f"; {signed} signed by their provider, each signature verified against its key then"


def consent_evidence(
    settings: Settings, jwks_file: Path, issuer: str | None, client_id: str | None
) -> str:
    """A note that every consent event was proved by the resident's fresh sign-in at the IdP
    (against the JWKS the auditor pinned, ``jwks_file``); VerificationError
    (``consent-evidence``) naming the first event that was not."""
    import json

    from governance import check_consent_evidence, open_engine

    oidc = settings.gateway.oidc
    issuer = issuer or (oidc.issuer if oidc else None)
    client_id = client_id or (oidc.client_id if oidc else None)
    if not issuer or not client_id:
        raise VerificationError("consent-evidence", "name the IdP: --idp-issuer and --idp-client")
    jwks = json.loads(jwks_file.read_text(encoding="utf-8"))
    engine = open_engine(settings.gateway.database_url)
    try:
        count, findings = check_consent_evidence(engine, jwks, issuer=issuer, audience=client_id)
    finally:
        engine.dispose()
    if findings:
        first = findings[0]
        raise VerificationError("consent-evidence",
                                f"consent event {first.seq} ({first.event} of {first.consent_id}): "
                                f"{first.problem}", actual=f"{len(findings)} of {count} events")  # fmt: skip
    return f"every consent event ({count}) was proved by the resident's sign-in at {issuer}"


def dispute_deadlines(settings: Settings, ledger: Ledger, now: dt.datetime) -> str:
    """A note that every dispute in the anchored dispute log was answered within its 20 days
    (or is still within them at ``now``); VerificationError (``dispute-deadline``) naming
    every one answered late or never, or (``dispute-log``) when the log does not match its
    anchors. SQLAlchemyError when the control plane cannot be read."""
    engine = open_engine(settings.gateway.database_url)
    try:
        checked, findings, notes = deadline_findings(engine, ledger.events(0), now)
    finally:
        engine.dispose()
    if findings:
        named = "; ".join(f.describe() for f in findings)
        raise VerificationError("dispute-deadline", named,
                                actual=f"{len(findings)} of {checked} disputes")  # fmt: skip
    return "; ".join([f"every dispute ({checked}) was answered within its 20 days, or still "
                      "may be", *notes])  # fmt: skip


def dispute_changes(settings: Settings, ledger: Ledger) -> str:
    """A note that every repair and deletion is in the anchored dispute log (and nothing
    else is) and every provider's answer is signed by it; VerificationError
    (``row-change``) naming every change missing from the log or the vault, or
    (``dispute-answer-signature``) every answer whose signature does not hold, or
    (``repair-signature``) every provider's repair or decision whose signature does not hold.
    SQLAlchemyError when the control plane cannot be read."""
    engine = open_engine(settings.gateway.database_url)
    try:
        recorded, source = _recorded_changes(settings, engine)
        count, findings = row_change_findings(engine, ledger.events(0), recorded)
        with opened_control_plane(settings) as control:
            keys = provider_keys(control)
            answers, problems = answer_signature_problems(engine, keys)
            repairs, repair_problems = repair_signature_problems(engine, keys)
    finally:
        engine.dispose()
    if findings:
        raise VerificationError("row-change", "; ".join(findings),
                                actual=f"{len(findings)} of {count} changes")  # fmt: skip
    if problems:
        raise VerificationError("dispute-answer-signature", "; ".join(problems),
                                actual=f"{len(problems)} of {answers} answers")  # fmt: skip
    if repair_problems:
        raise VerificationError("repair-signature", "; ".join(repair_problems),
                                actual=f"{len(repair_problems)} of {repairs} repairs")  # fmt: skip
    return (f"every repair and deletion ({count}, {source}) is in the anchored dispute log; "
            f"every provider's answer to a dispute ({answers}) and repair or decision "
            f"({repairs}) is signed by it")  # fmt: skip


def _recorded_changes(settings: Settings, engine: Engine) -> tuple[list[RowChange], str]:
    """The vault's changes, or the control plane's while the vault cannot be opened here."""
    try:
        with open_vault(settings) as vault:
            return vault_changes(row_changes(vault)), "from the vault"
    except VaultBusy:
        reason = "the gateway holds the vault"
    except VaultNotInitialised:
        reason = "no vault in this data directory"
    except VaultError:  # e.g. the master key is not available to this process
        reason = "the vault cannot be opened here"
    return recorded_changes(engine), f"from the control plane: {reason}"
