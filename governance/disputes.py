"""Disputes (异议, 征信业管理条例 第二十五条): a resident disputes a record, or their score as a
whole; the record's provider (the officers, for a score) answers within 20 days.

- `file_dispute`: the resident's own record (or score), a reason, an optional attachment
  (sealed, `governance.attachments`). From that moment the dispute *marks* the resident:
  every score that uses their records says ``disputed`` to the bank (`DisputeDesk.marked`,
  held in memory, so the answer path stays in memory; where several answer workers share
  the control plane, checked against the ``dispute`` version that every change raises, so
  a mark made through one worker holds on every worker's next answer), and their report
  shows it.
- The clock runs from receipt: ``due_at`` is `DISPUTE_DAYS` days later, visible to both
  sides. `escalate_overdue` escalates every dispute still open past its clock to the
  officers (the gateway runs it in the background and before every list of disputes).
- Answers (`governance.dispute_answers`): confirm, correct (a correcting contribution
  that supersedes the row) or delete; each clears the mark.

Every opening, escalation and answer is a leaf of the anchored dispute log
(`governance.dispute_log`) and an entry of the audit trail; the clock is the desk's ``now``
(injected in tests, never slept on). A dispute that is not the caller's is `NotFound`, as
if it did not exist.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from governance.attachments import Attachment, Sealer
from governance.audit_trail import AuditAppendError, make_entry
from governance.consent_log import subject_digest
from governance.control import bump_version, is_shared, read_version, utcnow
from governance.credentials import Principal, Role
from governance.dispute_log import DisputeLog
from governance.dispute_models import Dispute
from governance.errors import Conflict, NotFound, ServiceUnavailable
from governance.ids import new_id
from vault import RowNotFound, RowRef, StoredRecord, find_row

if TYPE_CHECKING:
    from governance.services import Services

__all__ = [
    "DISPUTE_DAYS",
    "DisputeDesk",
    "DisputeDraft",
    "DisputeView",
    "attachment_of",
    "dispute_desk",
    "dispute_detail",
    "dispute_list",
    "disputes_of",
    "escalate_overdue",
    "file_dispute",
    "marked",
    "open_rows",
    "sweeping",
]

DISPUTE_DAYS = 20
log = logging.getLogger("governance.disputes")
OPEN, ESCALATED, ANSWERED = "open", "escalated", "answered"
DISPUTE = "dispute"  # its row of ``control_versions``
Scope = Literal["record", "score"]


@dataclass(frozen=True)
class DisputeDraft:
    """What a resident sends: the record (None: the score as a whole), why, and a file."""

    record: RowRef | None
    reason: str
    attachment: Attachment | None = None


@dataclass(frozen=True)
class DisputeView:
    """A dispute as the edges show it; ``reason`` and ``note`` only to whom may read them."""

    id: str
    scope: str
    table: str | None
    provider: str | None
    record: RowRef | None
    row_digest: str | None
    record_key: str | None
    status: str
    received_at: dt.datetime
    due_at: dt.datetime
    escalated_at: dt.datetime | None
    outcome: str | None
    answered_at: dt.datetime | None
    correction: str | None
    attachment: tuple[str, str, int] | None  # name, media type, size
    late: bool
    reason: str | None = None
    note: str | None = None

    def days_left(self, now: dt.datetime) -> int:
        """Whole days until the deadline (negative once it has passed)."""
        return (self.due_at - now).days


class DisputeDesk:
    """The running dispute service: the sealed store, the log, the clock and the marks
    (the residents with an open dispute; the gateway is the only writer, so the set is
    kept exact by every change it makes)."""

    def __init__(self, sessions: sessionmaker[Session], log: DisputeLog, sealer: Sealer,
                 attachment_max: int, now: Callable[[], dt.datetime] = utcnow) -> None:  # fmt: skip
        self.sessions = sessions
        self.log = log
        self.sealer = sealer
        self.attachment_max = attachment_max
        self.now = now
        self.lock = threading.Lock()  # a transaction with its log leaf, then the anchor
        self._shared = is_shared(sessions)
        self._marks = self._read_marks()  # (the version they were read at, the subjects)

    def _open_subjects(self) -> set[str]:
        with self.sessions() as s:
            q = select(Dispute.subject).where(Dispute.status != ANSWERED)
            return set(s.scalars(q))

    def marked(self, subjects: Iterable[str]) -> bool:
        """Whether any of ``subjects`` has an open dispute (in memory: the answer path;
        shared, reread first if another worker changed a dispute)."""
        version, marks = self._marks
        if self._shared and read_version(self.sessions, DISPUTE) != version:
            version, marks = self._marks = self._read_marks()
        return any(s in marks for s in subjects)

    def refresh_marks(self) -> None:
        self._marks = self._read_marks()  # one assignment: a reader sees the old or the new

    def _read_marks(self) -> tuple[int | None, set[str]]:
        """The marks with the version read before them (shared; None on one process)."""
        version = read_version(self.sessions, DISPUTE) if self._shared else None
        return version, self._open_subjects()

    @contextmanager
    def logged(self) -> Iterator[Session]:
        """One transaction whose log leaves are anchored after it commits; the marks are
        reread afterwards."""
        with self.lock:
            with self.sessions.begin() as s:
                yield s
                bump_version(s, DISPUTE)
            self.log.anchor()
            self.refresh_marks()

    def view(self, d: Dispute, texts: bool = False) -> DisputeView:
        """``d`` as shown; with ``texts``, its reason and note unsealed."""
        record = None
        if d.scope == "record":
            assert d.table_name and d.contribution_id and d.row_no is not None
            record = RowRef(table=d.table_name, contribution_id=d.contribution_id, row=d.row_no)
        attachment = None
        if d.attachment_name:
            attachment = (d.attachment_name, d.attachment_type or "", d.attachment_size or 0)
        late = (d.answered_at or self.now()) > d.due_at
        return DisputeView(
            id=d.id, scope=d.scope, table=d.table_name, provider=d.provider, record=record,
            row_digest=d.row_digest, record_key=d.record_key, status=d.status,
            received_at=d.received_at, due_at=d.due_at, escalated_at=d.escalated_at,
            outcome=d.outcome, answered_at=d.answered_at, correction=d.correction,
            attachment=attachment, late=late,
            reason=self.sealer.open(d.id, "reason", d.reason).decode() if texts else None,
            note=self._note(d) if texts else None,
        )  # fmt: skip

    def _note(self, d: Dispute) -> str | None:
        return None if d.note is None else self.sealer.open(d.id, "note", d.note).decode()


def dispute_desk(services: Services) -> DisputeDesk:
    """The services' dispute desk; `ServiceUnavailable` if this process has none."""
    found = getattr(services, "disputes", None)
    if not isinstance(found, DisputeDesk):
        raise ServiceUnavailable("disputes_unavailable")
    return found


def marked(services: Services, subjects: Iterable[str]) -> bool:
    """Whether a score over ``subjects`` must say ``disputed`` (False without a desk)."""
    found = getattr(services, "disputes", None)
    return isinstance(found, DisputeDesk) and found.marked(subjects)


# -- filing ---------------------------------------------------------------------------------


def file_dispute(
    services: Services, subject: str, draft: DisputeDraft, audit: dict[str, Any]
) -> DisputeView:
    """Open the resident's dispute; the mark holds at once. Raises `NotFound`
    (``record_not_found``: not stored, or not theirs), `Conflict` (``dispute_already_open``
    on the same record or score)."""
    d = dispute_desk(services)
    found = _own_record(services, subject, draft.record)
    now = d.now()
    dispute = _new_dispute(d, subject, found, draft, now)
    audit.update(subject=subject, computation="dispute", parameters={"dispute": dispute.id})
    with d.logged() as s:
        _refuse_second(s, subject, found)
        s.add(dispute)
        d.log.add(s, dispute.id, "opened", now, _opened_fields(dispute))
    return d.view(dispute, texts=True)


def _own_record(services: Services, subject: str, ref: RowRef | None) -> StoredRecord | None:
    if ref is None:
        return None
    try:
        found = find_row(services.vault, ref)
    except RowNotFound:
        raise NotFound("record_not_found") from None
    if found.subject != subject:
        raise NotFound("record_not_found")  # someone else's record looks like none at all
    return found


def _new_dispute(d: DisputeDesk, subject: str, found: StoredRecord | None,
                 draft: DisputeDraft, now: dt.datetime) -> Dispute:  # fmt: skip
    dispute_id = new_id("dsp")
    a = draft.attachment
    content = draft.reason.encode() + (a.content if a else b"")
    return Dispute(
        id=dispute_id, subject=subject, scope="score" if found is None else "record",
        provider=found.provider if found else None, table_name=found.ref.table if found else None,
        contribution_id=found.ref.contribution_id if found else None,
        row_no=found.ref.row if found else None, row_digest=found.row_digest if found else None,
        record_key=found.key[:64] if found else None,
        reason=d.sealer.seal(dispute_id, "reason", draft.reason.encode()),
        content_digest=hashlib.sha256(content).hexdigest(),
        attachment=d.sealer.seal(dispute_id, "attachment", a.content) if a else None,
        attachment_name=a.name if a else None, attachment_type=a.media_type if a else None,
        attachment_size=len(a.content) if a else None, received_at=now,
        due_at=now + dt.timedelta(days=DISPUTE_DAYS), status=OPEN,
    )  # fmt: skip


def _refuse_second(s: Session, subject: str, found: StoredRecord | None) -> None:
    q = select(Dispute.id).where(Dispute.subject == subject, Dispute.status != ANSWERED)
    if found is None:
        q = q.where(Dispute.scope == "score")
    else:
        q = q.where(Dispute.contribution_id == found.ref.contribution_id,
                    Dispute.row_no == found.ref.row)  # fmt: skip
    if s.scalar(q.limit(1)) is not None:
        raise Conflict("dispute_already_open")


def _opened_fields(d: Dispute) -> dict[str, Any]:
    return {
        "scope": d.scope, "provider": d.provider, "table": d.table_name,
        "contribution": d.contribution_id, "row": d.row_no, "row_digest": d.row_digest,
        "subject_digest": subject_digest(d.subject), "content_digest": d.content_digest,
        "due": d.due_at.isoformat(),
    }  # fmt: skip


# -- reading --------------------------------------------------------------------------------


def disputes_of(services: Services, subject: str) -> list[DisputeView]:
    """The resident's own disputes, newest first, with their reasons and answers' notes."""
    d = dispute_desk(services)
    escalate_overdue(services)
    with d.sessions() as s:
        rows = s.scalars(select(Dispute).where(Dispute.subject == subject)
                         .order_by(Dispute.received_at.desc()))  # fmt: skip
        return [d.view(r, texts=True) for r in rows]


def open_rows(services: Services, subject: str) -> set[tuple[str, str, int]]:
    """(table, contribution, leaf index) of the resident's records under an open dispute
    (their report marks them); empty without a desk."""
    found = getattr(services, "disputes", None)
    if not isinstance(found, DisputeDesk):
        return set()
    with found.sessions() as s:
        q = select(Dispute.table_name, Dispute.contribution_id, Dispute.row_no).where(
            Dispute.subject == subject, Dispute.status != ANSWERED, Dispute.scope == "record"
        )
        return {(str(t), str(c), int(r)) for t, c, r in s.execute(q) if r is not None}


def dispute_list(services: Services, who: Principal) -> list[DisputeView]:
    """A provider's inbox (disputes of its records), or every dispute for officers,
    auditors and admins; open ones first, by deadline; no reasons or notes."""
    d = dispute_desk(services)
    escalate_overdue(services)
    q = select(Dispute)
    if who.role is Role.PROVIDER:
        q = q.where(Dispute.provider == provider_of(services, who))
    with d.sessions() as s:
        rows = list(s.scalars(q))
    rows.sort(key=lambda r: (r.status == ANSWERED, r.due_at))
    return [d.view(r) for r in rows]


def dispute_detail(services: Services, who: Principal, dispute_id: str) -> DisputeView:
    """One dispute with its reason and note, for its provider or an officer or admin."""
    d = dispute_desk(services)
    escalate_overdue(services)
    with d.sessions() as s:
        return d.view(readable(services, s, who, dispute_id), texts=True)


def attachment_of(services: Services, who: Principal, dispute_id: str) -> Attachment:
    """The dispute's attachment, unsealed, for its resident, its provider or an officer;
    `NotFound` (``attachment_not_found``) if it has none."""
    d = dispute_desk(services)
    with d.sessions() as s:
        row = readable(services, s, who, dispute_id)
        if row.attachment is None:
            raise NotFound("attachment_not_found")
        content = d.sealer.open(row.id, "attachment", row.attachment)
        return Attachment(row.attachment_name or "", row.attachment_type or "", content)


def readable(services: Services, s: Session, who: Principal, dispute_id: str) -> Dispute:
    """The dispute if ``who`` may read it: its resident, its record's provider, an officer
    or an admin; `NotFound` otherwise (someone else's dispute looks like none at all)."""
    row = s.get(Dispute, dispute_id)
    allowed = row is not None and (
        (who.role is Role.SUBJECT and row.subject == who.subject)
        or (who.role is Role.PROVIDER and row.provider == provider_of(services, who))
        or who.role in (Role.OFFICER, Role.ADMIN)
    )
    if row is None or not allowed:
        raise NotFound("dispute_not_found")
    return row


def provider_of(services: Services, who: Principal) -> str:
    """The registry's provider a provider client speaks for (its client name)."""
    client = services.control.active_client(who.client_id or "")
    if client is None:
        raise NotFound("dispute_not_found")
    return client.name


# -- the clock ------------------------------------------------------------------------------


def escalate_overdue(services: Services) -> int:
    """Escalate every dispute still open past its clock; returns how many. Each escalation
    is an audit entry (appended first: one that is not durable escalates nothing now, the
    next sweep tries again) and a leaf of the dispute log."""
    d = dispute_desk(services)
    now = d.now()
    with d.sessions() as s:
        q = select(Dispute).where(Dispute.status == OPEN, Dispute.due_at <= now)
        overdue = list(s.scalars(q))
    done = 0
    for row in overdue:
        try:
            _audit_escalation(services, row)
        except AuditAppendError:
            continue
        done += _escalate(d, row.id, now)
    return done


def _audit_escalation(services: Services, row: Dispute) -> None:
    context = {"actor": "gateway", "role": "system", "computation": "dispute",
               "subject": row.subject, "parameters": {"dispute": row.id}}  # fmt: skip
    entry = make_entry(context, action="escalate dispute", decision="allow",
                       request_id=new_id("req", 10), reason="deadline_passed")  # fmt: skip
    services.audit.append(entry)


def _escalate(d: DisputeDesk, dispute_id: str, now: dt.datetime) -> int:
    with d.logged() as s:
        row = s.get(Dispute, dispute_id)
        if row is None or row.status != OPEN:
            return 0  # answered or escalated meanwhile
        row.status, row.escalated_at = ESCALATED, now
        d.log.add(s, row.id, "escalated", now, {"due": row.due_at.isoformat()})
    return 1


@contextmanager
def sweeping(services: Services, interval: float) -> Iterator[None]:
    """Escalate overdue disputes every ``interval`` seconds in a background thread, for as
    long as the block runs (a failed sweep is retried at the next one)."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval):
            try:
                escalate_overdue(services)
            except Exception:  # the next sweep retries: never let the thread die
                log.warning("dispute sweep failed; retrying in %s s", interval)

    thread = threading.Thread(target=loop, name="dexin-dispute-sweep", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)
