"""The credit model's errors: one base class, a subclass per thing that can go wrong.

``str(exc)`` is a fixed-form message naming the problem (a spec location, a table, a
column), never a subject's identifier or values; the fields carry what a caller needs.
"""

from __future__ import annotations


class CreditModelError(Exception):
    """Base of every error the credit model raises."""

    advice: str = ""


class SpecError(CreditModelError):
    """The model spec is malformed or inconsistent; ``where`` names the offending part."""

    advice = "Fix the model spec file; a spec is refused as a whole."

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"model spec: {where}: {problem}")
        self.where = where
        self.problem = problem


class UnknownTableError(SpecError):
    def __init__(self, where: str, table: str) -> None:
        super().__init__(where, f"unknown table {table!r}")
        self.table = table


class UnknownColumnError(SpecError):
    def __init__(self, where: str, table: str, column: str) -> None:
        super().__init__(where, f"table {table!r} has no column {column!r}")
        self.table = table
        self.column = column


class ColumnTypeError(SpecError):
    def __init__(self, where: str, table: str, column: str, expected: str) -> None:
        super().__init__(where, f"column {table}.{column} is not {expected}")
        self.table = table
        self.column = column
        self.expected = expected


class WeightsError(SpecError):
    def __init__(self, total: float) -> None:
        super().__init__("dimensions", f"dimension weights add up to {total:g}, not 1")
        self.total = total


class BandsError(SpecError):
    """The morality-code bands overlap, leave a gap, or grant credit out of order."""

    def __init__(self, problem: str) -> None:
        super().__init__("bands", problem)


class FeaturesStaleError(CreditModelError):
    """The materialised features were computed with another spec than the one in use."""

    advice = "Run `dexin model score-all` to recompute features and scores with this spec."

    def __init__(self, expected: str, found: str | None) -> None:
        super().__init__("the materialised features do not belong to this model spec")
        self.expected = expected
        self.found = found


class FeaturesMissingError(CreditModelError):
    """No features have been materialised in this vault yet."""

    advice = "Run `dexin model score-all` first."

    def __init__(self) -> None:
        super().__init__("no materialised features: the population has not been scored yet")


class NotReleasedError(CreditModelError):
    """The model version has not been released on the ledger."""

    advice = "Release it with `dexin model release` (an officer), or pass --unreleased for a draft."

    def __init__(self, model: str) -> None:
        super().__init__(f"model {model} is not released on the ledger")
        self.model = model


class ReleaseMismatchError(CreditModelError):
    """The ledger's release of this model version anchors another spec hash."""

    advice = "The spec file was changed after its release: give the changed spec a new version."

    def __init__(self, model: str, released: str, local: str) -> None:
        super().__init__(f"model {model} was released with another spec hash")
        self.model = model
        self.released = released
        self.local = local
