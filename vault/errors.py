"""The vault's errors: one base class, one subclass per thing that can go wrong.

``str(exc)`` is a fixed, safe message that never contains a raw identifier or a row's
values; the fields carry what a caller needs to act on (a column name, a provider id).
``advice`` is the human hint shown by the CLI, kept apart from the message.
"""

from __future__ import annotations


class VaultError(Exception):
    """Base of every error the vault raises."""

    advice: str = ""


class RegistryError(VaultError):
    """The schema registry is malformed (bad type, unknown reference, duplicate name)."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"schema registry: {where}: {problem}")
        self.where = where
        self.problem = problem


class ProhibitedColumnError(RegistryError):
    """A column belongs to a category the law forbids collecting (征信业管理条例 第十四条)."""

    def __init__(self, where: str, column: str, category: str) -> None:
        super().__init__(where, f"column {column!r} is a prohibited category ({category})")
        self.column = column
        self.category = category


class UnknownTableError(VaultError):
    def __init__(self, table: str) -> None:
        super().__init__(f"unknown table {table!r}")
        self.table = table


class UnknownProviderError(VaultError):
    def __init__(self, provider: str, table: str | None = None) -> None:
        what = (
            f"provider {provider!r} does not contribute table {table!r}"
            if table
            else (f"unknown provider {provider!r}")
        )
        super().__init__(what)
        self.provider = provider
        self.table = table


class ContributionRefused(VaultError):
    """The contribution is refused as a whole: nothing of it is loaded."""

    def __init__(self, reason: str, column: str | None = None, receipt: object = None) -> None:
        super().__init__(f"contribution refused: {reason}")
        self.reason = reason
        self.column = column
        self.receipt = receipt  # the recorded `vault.ingest.Receipt`, when there is one


class KeyManagementError(VaultError):
    """Base of key-management errors."""


class MasterKeyMissing(KeyManagementError):
    advice = (
        "Set DEXIN_MASTER_KEY (64 hex characters) or DEXIN_MASTER_KEY_FILE, "
        "or run `dexin vault init` to create a key file."
    )

    def __init__(self) -> None:
        super().__init__("no master key is configured")


class MasterKeyInvalid(KeyManagementError):
    advice = "A master key is 32 random bytes written as 64 hexadecimal characters."

    def __init__(self, source: str) -> None:
        super().__init__(f"the master key from {source} is not 32 bytes of hex")
        self.source = source


class WrongKeyError(KeyManagementError):
    """A wrapped key does not open with this master key, or a database with its data key."""

    advice = "Check that DEXIN_MASTER_KEY / the key file belongs to this data directory."

    def __init__(self, what: str) -> None:
        super().__init__(f"wrong key: cannot open {what}")
        self.what = what


class KeyFilePermissionsError(KeyManagementError):
    advice = "Run `chmod 600` on the key file; it must be readable by its owner only."

    def __init__(self, path: str, mode: int) -> None:
        super().__init__(f"key file {path} has mode {mode:o}; refusing a key others can read")
        self.path = path
        self.mode = mode


class VaultNotInitialised(VaultError):
    advice = "Run `dexin vault init` first."

    def __init__(self, path: str) -> None:
        super().__init__(f"no vault at {path}")
        self.path = path


class VaultAlreadyInitialised(VaultError):
    def __init__(self, path: str) -> None:
        super().__init__(f"a vault already exists at {path}")
        self.path = path


class VaultBusy(VaultError):
    """Another process holds the vault (DuckDB allows one read-write process per file)."""

    advice = (
        "Only one process may open the vault at a time. Stop the other process "
        "(or send the work to the running gateway) and try again."
    )

    def __init__(self, path: str) -> None:
        super().__init__(f"the vault at {path} is in use by another process")
        self.path = path


class InputFileError(VaultError):
    """A contribution file cannot be read at all (missing, not a file, unknown format)."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class ContributionNotFound(VaultError):
    def __init__(self, contribution_id: str) -> None:
        super().__init__(f"no contribution {contribution_id}")
        self.contribution_id = contribution_id


class RowNotFound(VaultError):
    def __init__(self, contribution_id: str, row: int) -> None:
        super().__init__(f"contribution {contribution_id} has no accepted row {row}")
        self.contribution_id = contribution_id
        self.row = row


class InvalidIdNumber(VaultError):
    """An ID number is malformed; the message gives the reason, never the number."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid ID number: {reason}")
        self.reason = reason


class RowChangeRefused(VaultError):
    """A repair, deletion or correction of a stored row is not allowed; ``reason`` is a
    fixed code (``not_repairable``, ``repair_before_minimum``, ``already_repaired``,
    ``correction_must_restate_the_record``, ...), never a value of the row."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"row change refused: {reason}")
        self.reason = reason
