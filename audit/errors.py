"""Errors raised by the audit package.

A small hierarchy, caught by class, never by message (``AuditError`` is the base of all;
the log, checkpoint, witness and verifier errors are listed further down)::

    MerkleError                  anything wrong with a Merkle tree request or proof
    ├── OutOfRangeError          an index or tree size outside the tree (fields: index, size)
    ├── HashSizeError            a hash that is not a SHA-256 digest (field: length)
    └── ProofError               a proof that does not prove the claim
        ├── ProofLengthError     wrong number of hashes (fields: expected, actual)
        └── RootMismatchError    the proof leads to another root (fields: expected,
                                 calculated, size)

``str(exc)`` is a fixed sentence per class, so that it can be shown to anyone; the details
(hashes, sizes) live in the fields, for the audit trail.
"""

from typing import Any, ClassVar

__all__ = [
    "AnchorError",
    "AuditError",
    "CheckpointError",
    "CosignatureError",
    "EntryError",
    "HashSizeError",
    "IdentifierInEntryError",
    "LogBusyError",
    "LogClosedError",
    "LogCorruptError",
    "LogError",
    "LogUnavailableError",
    "MerkleError",
    "NoteError",
    "OutOfRangeError",
    "PolicyViolation",
    "ProofError",
    "ProofLengthError",
    "QuorumError",
    "RootMismatchError",
    "SignatureError",
    "SplitViewError",
    "VerificationError",
    "WitnessError",
]


class AuditError(Exception):
    """Base class of every error raised by the ``audit`` package.

    ``str(exc)`` is the class's fixed public sentence; details live in fields.
    """

    message: ClassVar[str] = "audit error"

    def __init__(self) -> None:
        super().__init__(self.message)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle by fields, so errors cross process boundaries (worker processes)."""
        return (_restore, (type(self), dict(self.__dict__)))


def _restore(cls: type[AuditError], fields: dict[str, Any]) -> AuditError:
    error = cls.__new__(cls)
    Exception.__init__(error, cls.message)
    error.__dict__.update(fields)
    return error


class MerkleError(AuditError):
    """Base class of every error raised by ``audit.merkle``."""

    message = "Merkle tree error"


class OutOfRangeError(MerkleError):
    """An index or size does not fit the tree: ``index`` must be in ``[0, size)``.

    For consistency requests ``index`` is the old size and ``size`` the new size
    (or the number of leaves available).
    """

    message = "index or tree size out of range"

    def __init__(self, index: int, size: int) -> None:
        super().__init__()
        self.index = index
        self.size = size


class HashSizeError(MerkleError):
    """A leaf hash, root or proof element is not 32 bytes long (``length`` is what it was)."""

    message = "hash is not a 32-byte SHA-256 digest"

    def __init__(self, length: int) -> None:
        super().__init__()
        self.length = length


class ProofError(MerkleError):
    """A proof failed verification; the subclasses say how."""

    message = "Merkle proof does not verify"


class ProofLengthError(ProofError):
    """The proof has ``actual`` hashes where the tree shape requires ``expected``."""

    message = "Merkle proof has the wrong number of hashes"

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__()
        self.expected = expected
        self.actual = actual


class RootMismatchError(ProofError):
    """The root ``calculated`` from the proof differs from the ``expected`` (claimed) root.

    ``size`` is the size of the tree whose root did not match, which tells the old tree
    from the new one in a consistency check.
    """

    message = "calculated Merkle root does not match the expected root"

    def __init__(self, expected: bytes, calculated: bytes, size: int) -> None:
        super().__init__()
        self.expected = expected
        self.calculated = calculated
        self.size = size


# --------------------------------------------------------------------------------------
# The audit log, checkpoints, witnesses and the verifier.
#
#     AuditError                        base of everything below (and of MerkleError)
#     ├── EntryError                    an entry refused before it is logged (field, reason)
#     │   └── IdentifierInEntryError    a field looks like an 18-digit ID number (field)
#     ├── LogError                      the log's files (path)
#     │   ├── LogBusyError              another process has the log open for writing
#     │   ├── LogClosedError            append after close, or the log failed earlier
#     │   └── LogCorruptError           a record that is not a torn tail (offset, reason)
#     ├── NoteError                     a signed note or key that cannot be used (reason)
#     │   └── SignatureError            no trusted signature verifies (key_name)
#     ├── CheckpointError               a checkpoint that cannot be issued or used (size)
#     ├── WitnessError                  a witness refuses to cosign (reason)
#     │   └── SplitViewError            not an extension of what it cosigned before
#     ├── CosignatureError              an aggregate cosignature that does not verify
#     │   └── QuorumError                 fewer cosignatures than the threshold (refusals)
#     ├── AnchorError                   a checkpoint's on-chain anchor is missing or differs
#     ├── PolicyViolation               an allowed access without valid approval/consent
#     └── VerificationError             the auditor's verdict: the first problem found
# --------------------------------------------------------------------------------------


class EntryError(AuditError):
    """An audit entry was refused: ``field`` is the offending field, ``reason`` why."""

    message = "audit entry refused"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__()
        self.field = field
        self.reason = reason


class IdentifierInEntryError(EntryError):
    """A field holds something that looks like an 18-digit resident ID number.

    The value itself is never kept in the exception: it is personal data.
    """

    message = "audit entry refused: a field looks like a resident ID number"

    def __init__(self, field: str) -> None:
        super().__init__(field, "looks like an 18-digit ID number")


class LogError(AuditError):
    """A problem with the log's files under ``path``."""

    message = "audit log error"

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path


class LogBusyError(LogError):
    """Another process holds the log's write lock (readers never need it)."""

    message = "the audit log is open for writing in another process"


class LogClosedError(LogError):
    """The log is closed, or a write failed and the log refuses further appends."""

    message = "the audit log is closed"


class LogUnavailableError(LogError):
    """The log's database did not commit the batch holding this entry (unreachable, or the
    transaction failed): the entry is not acknowledged and its request is not answered. The
    log itself stays open; a later append may succeed once the database is back."""

    message = "the audit log's database did not commit the entry"


class LogCorruptError(LogError):
    """A stored record or file is damaged in a way a crash cannot explain."""

    message = "the audit log's files are damaged"

    def __init__(self, path: str, offset: int, reason: str) -> None:
        super().__init__(path)
        self.offset = offset
        self.reason = reason


class NoteError(AuditError):
    """A signed note, verifier key or key file that is malformed (C2SP signed-note)."""

    message = "malformed signed note or key"

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class SignatureError(NoteError):
    """No signature by a trusted key verifies, or one by a trusted key fails."""

    message = "signature does not verify"

    def __init__(self, key_name: str, reason: str) -> None:
        super().__init__(reason)
        self.key_name = key_name


class CheckpointError(AuditError):
    """A checkpoint that cannot be issued, parsed or used (``size``, ``reason``)."""

    message = "checkpoint error"

    def __init__(self, size: int | None, reason: str) -> None:
        super().__init__()
        self.size = size
        self.reason = reason


class WitnessError(AuditError):
    """A witness refuses to cosign; ``reason`` says why."""

    message = "the witness refuses to cosign this checkpoint"

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class SplitViewError(WitnessError):
    """The checkpoint does not extend the one the witness cosigned last (a split view).

    Fields: the witness's ``old_size``/``old_root`` and the offered ``new_size``/``new_root``.
    """

    message = "split view: the checkpoint is not an extension of the last one cosigned"

    def __init__(self, old_size: int, old_root: bytes, new_size: int, new_root: bytes) -> None:
        super().__init__("not an extension")
        self.old_size = old_size
        self.old_root = old_root
        self.new_size = new_size
        self.new_root = new_root


class CosignatureError(AuditError):
    """The witnesses' aggregate signature on checkpoint ``size`` is not acceptable."""

    message = "witness cosignatures do not verify"

    def __init__(self, size: int, reason: str) -> None:
        super().__init__()
        self.size = size
        self.reason = reason


class QuorumError(CosignatureError):
    """Fewer witnesses than required cosigned; ``refusals`` holds each refusal."""

    message = "not enough witnesses cosigned the checkpoint"

    def __init__(
        self, size: int, cosigned: int, required: int, refusals: list[WitnessError]
    ) -> None:
        super().__init__(size, f"{cosigned} cosignatures, {required} required")
        self.cosigned = cosigned
        self.required = required
        self.refusals = refusals


class AnchorError(AuditError):
    """The on-chain anchor of checkpoint ``size`` is missing or binds other values."""

    message = "checkpoint anchor missing or different on the ledger"

    def __init__(self, size: int, reason: str) -> None:
        super().__init__()
        self.size = size
        self.reason = reason


class PolicyViolation(AuditError):
    """Entry ``index`` records an allowed access the policy does not justify."""

    message = "an allowed access lacks a valid approval or consent"

    def __init__(self, index: int, reason: str) -> None:
        super().__init__()
        self.index = index
        self.reason = reason


class VerificationError(AuditError):
    """The auditor's verifier found a problem; the first one is described by the fields.

    ``check`` names the check (``entry``, ``leaf``, ``checkpoint-signature``,
    ``checkpoint-root``, ``consistency``, ``cosignature``, ``anchor``, ``policy``, …);
    ``entry`` and ``checkpoint`` locate it (an entry index, a checkpoint size, or None);
    ``expected``/``actual`` say what differs; ``detail`` is a sentence for the auditor.
    """

    message = "audit log verification failed"

    def __init__(
        self,
        check: str,
        detail: str,
        *,
        entry: int | None = None,
        checkpoint: int | None = None,
        expected: str | None = None,
        actual: str | None = None,
    ) -> None:
        super().__init__()
        self.check = check
        self.detail = detail
        self.entry = entry
        self.checkpoint = checkpoint
        self.expected = expected
        self.actual = actual

    def describe(self) -> str:
        """One line for the auditor: what, where, and what differs."""
        where = []
        if self.entry is not None:
            where.append(f"entry {self.entry}")
        if self.checkpoint is not None:
            where.append(f"checkpoint at size {self.checkpoint}")
        text = f"{self.check}: {self.detail}"
        if where:
            text += f" ({', '.join(where)})"
        if self.expected is not None or self.actual is not None:
            text += f"; expected {self.expected}, found {self.actual}"
        return text
