"""A resident's own credit report (征信业管理条例 第十七条; 个人信息保护法 第四十四、四十五条).

`issue_report` assembles, for the signed-in resident only: every record about them in the
vault, table by table (provider, dates, and whether it is used by the score, expired under
the 5-year rule, lapsed, repaired), their statements, their current score with its
dimensions and reasons, the score under each model release on the ledger, their consents,
every bank's access to their data with its audit entry and an RFC 9162 inclusion proof
against a signed checkpoint (a `dexin audit prove` document: `dexin audit check-proof`
checks it with nothing but the log's public key), their reviews, the banks' attestations of
a human decision, and the reports issued before.

Each report is counted: its number in the resident's year (China Standard Time) and whether
it is one of the `FREE_PER_YEAR` free reports the law guarantees. A report beyond those is
issued all the same (the regulation lets an agency charge for it; Dexin never refuses it)
and says so. Generating it is an audited request by the resident (the edge's entry names the
resident and the report's id).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from audit import leaf_hash
from credit_model import ModelSpec
from governance.accesses import LoggedAccess
from governance.audit_trail import AuditTrail
from governance.consents import consent_status
from governance.disputes import open_rows
from governance.errors import ServiceUnavailable
from governance.ids import new_id
from governance.models import Consent
from governance.record_use import model_spec, used_rows
from governance.reviews import attestations_of, reviews_of
from governance.rights_models import DecisionAttestation, RecordStatement, ReportIssue, ScoreReview
from governance.scores import own_score
from governance.statements import row_key, statements_of
from ledger import LedgerError
from vault import StoredRecord, subject_records

if TYPE_CHECKING:
    from governance.services import Services

__all__ = ["FREE_PER_YEAR", "CreditReport", "Issue", "ReportForm", "issue_report"]

FREE_PER_YEAR = 2
ReportForm = Literal["html", "pdf", "json"]


@dataclass(frozen=True)
class Issue:
    """This report's place in the resident's year."""

    id: str
    year: int
    number: int
    free: bool
    free_left: int
    issued_at: dt.datetime


@dataclass(frozen=True)
class RecordLine:
    record: StoredRecord
    used: bool
    received_at: str | None
    statement: RecordStatement | None
    disputed: bool = False  # under an open dispute (征信业管理条例 第二十五条)


@dataclass(frozen=True)
class TableRecords:
    name: str
    zh: str
    en: str
    dimension: str
    negative: bool
    columns: list[tuple[str, str, str]]  # shown column, zh, en
    lines: list[RecordLine]


@dataclass(frozen=True)
class CreditReport:
    issue: Issue
    as_of: dt.date
    tables: list[TableRecords]
    providers: dict[str, tuple[str, str]]  # id -> (zh, en)
    score: dict[str, Any]
    history: list[dict[str, Any]]
    consents: list[Consent]
    accesses: list[dict[str, Any]]
    checkpoint: str | None  # the signed checkpoint every access proof is against
    reviews: list[ScoreReview]
    attestations: list[DecisionAttestation]
    past: list[ReportIssue]


def issue_report(
    services: Services, subject: str, form: ReportForm, request_id: str, context: dict[str, Any]
) -> CreditReport:
    """Count and assemble the resident's report (see the module docstring); the audit
    ``context`` names the resident and the report."""
    issue = _count(services, subject, form, request_id)
    context.update(subject=subject, parameters={"report": issue.id, "form": form})
    spec = model_spec(services.vault)
    accesses, checkpoint = _accesses(services, subject)
    return CreditReport(
        issue=issue, as_of=services.vault.as_of, tables=_tables(services, spec, subject),
        providers={p.id: (p.zh, p.en) for p in services.vault.registry.providers},
        score=own_score(services, subject), history=_history(services, spec),
        consents=services.control.consents_of(subject), accesses=accesses,
        checkpoint=checkpoint, reviews=reviews_of(services, subject),
        attestations=attestations_of(services, subject), past=_past(services, subject),
    )  # fmt: skip


def _count(services: Services, subject: str, form: ReportForm, request_id: str) -> Issue:
    """Number this report within the resident's year (a concurrent one takes the next)."""
    for _ in range(5):
        now, year = services.rights.now(), services.rights.year()
        try:
            with services.control.sessions.begin() as s:
                before = s.scalar(select(func.count()).select_from(ReportIssue).where(
                    ReportIssue.subject == subject, ReportIssue.year == year)) or 0  # fmt: skip
                number = int(before) + 1
                made = ReportIssue(id=new_id("rp"), subject=subject, year=year, number=number,
                                   free=number <= FREE_PER_YEAR, form=form,
                                   request_id=request_id, issued_at=now)  # fmt: skip
                s.add(made)
        except IntegrityError:
            continue  # another report of the same resident took this number
        left = max(0, FREE_PER_YEAR - number)
        return Issue(made.id, year, number, made.free, left, now)
    raise ServiceUnavailable("report_count_contended")


def _tables(services: Services, spec: ModelSpec, subject: str) -> list[TableRecords]:
    vault = services.vault
    used = used_rows(vault, spec, subject)
    stated = {row_key(s): s for s in statements_of(services, subject)}
    disputed = open_rows(services, subject)
    received = {c["contribution_id"]: c["received_at"] for c in vault.contributions()}
    records = subject_records(vault, subject)
    out = []
    for table in vault.registry.tables:
        mine = [r for r in records if r.ref.table == table.name]
        if not mine:
            continue
        shown = [(c.name, c.zh, c.en) for c in table.columns if c.stored_name == c.name]
        lines = [RecordLine(r, _key(r) in used, received.get(r.ref.contribution_id),
                            stated.get(_key(r)), _key(r) in disputed) for r in mine]  # fmt: skip
        out.append(TableRecords(table.name, table.zh, table.en, table.dimension,
                                table.is_negative_information, shown, lines))  # fmt: skip
    return out


def _key(record: StoredRecord) -> tuple[str, str, int]:
    return record.ref.table, record.ref.contribution_id, record.ref.row


def _history(services: Services, spec: ModelSpec) -> list[dict[str, Any]]:
    """Each release of the model on the ledger, and whether it is the one scoring now."""
    ledger, out = services.ledger, []
    try:
        for version in range(1, ledger.latest_model_version(spec.model_id) + 1):
            try:
                release = ledger.get_model_release(spec.model_id, version)
            except LedgerError:
                continue  # a version never released
            when = dt.datetime.fromtimestamp(release.time, dt.UTC)
            out.append({"model": f"{release.model_id}@{release.version}", "released_at": when,
                        "digest": release.spec_hash.hex(),
                        "current": release.spec_hash == spec.digest})  # fmt: skip
    except LedgerError:
        return []
    return out


def _accesses(services: Services, subject: str) -> tuple[list[dict[str, Any]], str | None]:
    """Every bank's access with its entry and, once a signed checkpoint covers it, an
    inclusion proof (a checkpoint is signed now if the latest leaves some access out)."""
    found = services.accesses.of(subject)
    if not isinstance(services.audit, AuditTrail):
        return [_access(a, None) for a in found], None
    log = services.audit.log
    signed = log.latest_checkpoint()
    if found and (signed is None or signed.checkpoint.size <= found[-1].index):
        signed = log.checkpoint_now()
    if signed is None:
        return [_access(a, None) for a in found], None
    note, size = signed.render(), signed.checkpoint.size
    return [_access(a, _proof(log, a.index, size, note)) for a in found], note


def _proof(log: Any, index: int, size: int, note: str) -> dict[str, Any] | None:
    if index >= size:
        return None
    entry = log.entry(index)
    return {"index": index, "size": size, "entry": entry.decode(),
            "leaf_hash": leaf_hash(entry).hex(),
            "proof": [h.hex() for h in log.inclusion_proof(index, size)],
            "checkpoint": note}  # fmt: skip


def _access(access: LoggedAccess, proof: dict[str, Any] | None) -> dict[str, Any]:
    return {"at": access.at, "bank_id": access.bank_id, "computation": access.computation,
            "purpose": access.purpose, "access_request_id": access.access_request_id,
            "audit_index": access.index, "proof": proof}  # fmt: skip


def _past(services: Services, subject: str) -> list[ReportIssue]:
    with services.control.sessions() as s:
        q = select(ReportIssue).where(ReportIssue.subject == subject)
        return list(s.scalars(q.order_by(ReportIssue.issued_at.desc())))


def consent_rows(report: CreditReport) -> list[dict[str, Any]]:
    """The report's consents as rows (the status judged now)."""
    return [{"id": c.id, "bank": c.bank_id, "purpose": c.purpose, "covers": list(c.covers),
             "created_at": c.created_at, "expires_at": c.expires_at,
             "withdrawn_at": c.withdrawn_at, "status": consent_status(c)}
            for c in report.consents]  # fmt: skip


def void_issue(services: Services, issue_id: str) -> None:
    """Take back the count of a report that could not be delivered (its PDF failed)."""
    with services.control.sessions.begin() as s:
        found = s.get(ReportIssue, issue_id)
        if found is not None:
            s.delete(found)


def report_counts(services: Services) -> list[dict[str, int]]:
    """Reports issued per year, how many free and how many beyond the free ones (for
    auditors: counts only, no resident named)."""
    with services.control.sessions() as s:
        q = select(ReportIssue.year, ReportIssue.free, func.count()).group_by(
            ReportIssue.year, ReportIssue.free)  # fmt: skip
        rows = list(s.execute(q))
    years: dict[int, dict[str, int]] = {}
    for year, free, n in rows:
        y = years.setdefault(int(year), {"year": int(year), "issued": 0, "free": 0,
                                         "beyond_free": 0})  # fmt: skip
        y["issued"] += int(n)
        y["free" if free else "beyond_free"] += int(n)
    return [years[y] for y in sorted(years)]
