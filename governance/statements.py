"""Statements on negative records (征信业管理条例 第十六条): the resident explains a record.

A resident attaches an explanatory statement to one of their own negative records; it is
kept with the record (named by its place in the vault and its digest, never its content),
shown in their report, and — in the short form the resident declares — returned to a bank
with any score that uses the record (`answer_notes`, `governance.record_use`). A new
statement on the same record replaces the old one; a statement is withdrawn, never deleted.

Raises `NotFound` (``unknown_record``: not stored, or not the resident's — the same answer,
so it says nothing about other people's rows; ``unknown_statement``), `Conflict`
(``record_not_negative``, ``record_expired``, ``statement_already_withdrawn``) and
`InvalidRequest` (``statement_text_invalid``, ``statement_names_an_id_number``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
from sqlalchemy import select, update

from governance.errors import Conflict, InvalidRequest, NotFound
from governance.ids import new_id
from governance.record_use import RowKey, model_spec, used_rows
from governance.rights_models import RecordStatement
from vault import RowNotFound, RowRef, find_row

if TYPE_CHECKING:
    from governance.services import Services

__all__ = [
    "SHORT_MAX",
    "TEXT_MAX",
    "StatementDraft",
    "add_statement",
    "answer_notes",
    "statements_of",
    "withdraw_statement",
]

TEXT_MAX = 1000
SHORT_MAX = 80
_ID_NUMBER = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")  # as the audit entries refuse


@dataclass(frozen=True)
class StatementDraft:
    """What the resident writes: the record, the full text, the short form banks receive."""

    record: RowRef
    text: str
    short: str


def _clean(text: str, limit: int, lines: bool) -> str:
    """The text stripped, or `InvalidRequest`: empty, too long, control characters (but
    line breaks in the full text), or anything that looks like an ID number (a statement
    reaches banks; nobody's ID number may travel in it)."""
    text = text.strip()
    allowed = {"\n"} if lines else set()
    controls = any(unicodedata.category(c).startswith("C") and c not in allowed for c in text)
    if not text or len(text) > limit or controls:
        raise InvalidRequest(reason="statement_text_invalid")
    if _ID_NUMBER.search(text):
        raise InvalidRequest(reason="statement_names_an_id_number")
    return text


def add_statement(
    services: Services, subject: str, draft: StatementDraft, context: dict[str, Any]
) -> RecordStatement:
    """Attach ``draft`` to the resident's negative record (replacing an active statement on
    it); the caller's audit entry (``context``) names the resident."""
    context["subject"] = subject
    text = _clean(draft.text, TEXT_MAX, lines=True)
    short = _clean(draft.short, SHORT_MAX, lines=False)
    try:
        record = find_row(services.vault, draft.record)
    except RowNotFound:
        raise NotFound("unknown_record") from None
    if record.subject != subject:
        raise NotFound("unknown_record")
    if not record.negative:
        raise Conflict("record_not_negative")
    if record.status == "expired":
        raise Conflict("record_expired")
    now = services.rights.now()
    made = RecordStatement(
        id=new_id("st"), subject=subject, table_name=draft.record.table,
        contribution_id=draft.record.contribution_id, row_no=draft.record.row,
        row_digest=record.row_digest, text=text, short=short, created_at=now,
    )  # fmt: skip
    try:
        with services.control.sessions.begin() as s:
            s.execute(_withdraw_on(subject, draft.record).values(withdrawn_at=now))
            s.add(made)
    finally:
        services.rights.forget()
    return made


def _withdraw_on(subject: str, ref: RowRef) -> Any:
    return update(RecordStatement).where(
        RecordStatement.subject == subject, RecordStatement.table_name == ref.table,
        RecordStatement.contribution_id == ref.contribution_id,
        RecordStatement.row_no == ref.row, RecordStatement.withdrawn_at.is_(None),
    )  # fmt: skip


def withdraw_statement(
    services: Services, subject: str, statement_id: str, context: dict[str, Any]
) -> RecordStatement:
    """Withdraw one of the resident's statements (another's is `NotFound`)."""
    context["subject"] = subject
    try:
        with services.control.sessions.begin() as s:
            found = s.get(RecordStatement, statement_id)
            if found is None or found.subject != subject:
                raise NotFound("unknown_statement")
            if found.withdrawn_at is not None:
                raise Conflict("statement_already_withdrawn")
            found.withdrawn_at = services.rights.now()
            return found
    finally:
        services.rights.forget()


def statements_of(
    services: Services, subject: str, *, active: bool = True
) -> list[RecordStatement]:
    """The resident's statements, oldest first (only the active ones by default)."""
    with services.control.sessions() as s:
        q = select(RecordStatement).where(RecordStatement.subject == subject)
        if active:
            q = q.where(RecordStatement.withdrawn_at.is_(None))
        return list(s.scalars(q.order_by(RecordStatement.created_at)))


def row_key(statement: RecordStatement) -> RowKey:
    return statement.table_name, statement.contribution_id, statement.row_no


async def answer_notes(services: Services, subjects: Sequence[str]) -> dict[str, Any]:
    """What the residents' rights add to a score over ``subjects``: ``statements`` — the short
    form of each active statement on a record the score uses — and ``review_pending``, true
    while a review of one of their scores is open. Memory only for residents with neither
    (the answer path stays on the event loop); otherwise one filtered scan, in a worker
    thread, per table that holds a statement."""
    rights, sessions = services.rights, services.control.sessions
    pending = any(rights.under_review(sessions, s) for s in subjects)
    stated = [s for s in subjects if rights.has_statements(sessions, s)]
    notes: list[dict[str, str]] = []
    for subject in stated:
        notes += await anyio.to_thread.run_sync(_used_statements, services, subject)
    return {"statements": notes, "review_pending": pending}


def _used_statements(services: Services, subject: str) -> list[dict[str, str]]:
    stated = statements_of(services, subject)
    vault = services.vault
    spec = model_spec(vault)
    used = used_rows(vault, spec, subject, {s.table_name for s in stated})
    return [
        {"table": s.table_name, "dimension": vault.registry.table(s.table_name).dimension,
         "statement": s.short, "made_on": s.created_at.date().isoformat()}
        for s in stated if row_key(s) in used
    ]  # fmt: skip
