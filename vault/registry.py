"""The schema registry: the 17 source tables, declared once in ``schema/tables.toml``.

`load_registry()` parses the TOML into frozen models and refuses anything malformed
(raising `RegistryError`) or prohibited (raising `ProhibitedColumnError`). The registry's
identity is the SHA-256 of its RFC 8785 canonical JSON form (`Registry.digest`).
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import rfc8785
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from vault.errors import (
    ProhibitedColumnError,
    RegistryError,
    UnknownProviderError,
    UnknownTableError,
)
from vault.prohibited import prohibited_category

SCHEMA_FILE = Path(__file__).parent / "schema" / "tables.toml"

ColumnType = Literal[
    "id_number", "pseudonym", "string", "enum", "integer", "decimal", "date", "boolean"
]
Dimension = Literal["base", "moral_review", "law_abiding", "honesty", "volunteering", "virtue"]
LegalBasis = Literal["consent", "public_by_law", "statutory_duty"]
_IDENT = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Column(_Frozen):
    """One declared column of a source table."""

    name: str
    type: ColumnType
    en: str
    zh: str
    required: bool = True
    pseudonym_as: str | None = None
    pattern: str | None = None
    values: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    scale: int | None = Field(default=None, ge=0, le=6)
    not_before: str | None = None
    matches_id: Literal["birth_year", "sex"] | None = None
    may_be_future: bool = False  # e.g. the end of a sentence still being served

    @model_validator(mode="after")
    def _consistent(self) -> Column:
        if not _IDENT.match(self.name):
            raise ValueError(f"column name {self.name!r} is not a lower-case identifier")
        pseudonymised = self.type in ("id_number", "pseudonym")
        if pseudonymised != (self.pseudonym_as is not None):
            raise ValueError(f"{self.name}: pseudonym_as is required exactly for identifier types")
        if (self.type == "enum") != bool(self.values):
            raise ValueError(f"{self.name}: values are required exactly for enum columns")
        if (self.type == "decimal") != (self.scale is not None):
            raise ValueError(f"{self.name}: scale is required exactly for decimal columns")
        if self.pattern is not None:
            re.compile(self.pattern)
        return self

    @property
    def stored_name(self) -> str:
        """The column's name in the vault: identifiers are stored under their pseudonym name."""
        return self.pseudonym_as or self.name

    @property
    def sql_type(self) -> str:
        return {
            "id_number": "VARCHAR",
            "pseudonym": "VARCHAR",
            "string": "VARCHAR",
            "enum": "VARCHAR",
            "integer": "BIGINT",
            "decimal": f"DECIMAL(18,{self.scale})",
            "date": "DATE",
            "boolean": "BOOLEAN",
        }[self.type]


class PublicationWindow(_Frozen):
    """How long a negative row is published, i.e. counts, and when it may be repaired
    (信用修复): data with its legal source, rendered in docs/data-dictionary.md.

    The window of a row runs from its ``starts`` date. It ends by itself ``max_months``
    later (None: no maximum), or on the date in its ``ends_with`` column (a listing's
    removal), whichever comes first; from that day the row no longer counts. A row of a
    ``repairable`` window may be repaired from ``min_months`` after its start: the repair's
    date ends it. ``applies`` (SQL over stored columns, like ``negative_when``) selects the
    rows the rule governs; of several, the first that applies decides.
    """

    applies: str = "TRUE"
    starts: str
    min_months: int = Field(default=0, ge=0, le=120)
    max_months: int | None = Field(default=None, ge=1, le=120)
    ends_with: str | None = None
    repairable: bool
    zh: str
    en: str
    source: str

    @model_validator(mode="after")
    def _bounded(self) -> PublicationWindow:
        if self.max_months is not None and self.max_months < self.min_months:
            raise ValueError("a window's maximum precedes its minimum")
        if self.max_months is None and self.ends_with is None and not self.repairable:
            raise ValueError("a window that never ends is no window")
        return self


class Table(_Frozen):
    """One source table: its columns, providers, dimension, legal basis and retention."""

    no: int
    name: str
    zh: str
    en: str
    providers: tuple[str, ...]
    dimension: Dimension
    legal_basis: LegalBasis
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    negative: bool = False
    negative_when: str | None = None
    conduct_end: str | None = None
    windows: tuple[PublicationWindow, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Table:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError("duplicate column names")
        for ref in (*self.key, *(c.not_before for c in self.columns if c.not_before)):
            if ref not in names:
                raise ValueError(f"references unknown column {ref!r}")
        has_negative = self.negative or self.negative_when is not None
        if has_negative != (self.conduct_end is not None):
            raise ValueError("negative information must name its conduct_end column, and only it")
        if self.conduct_end is not None and self.column(self.conduct_end).type != "date":
            raise ValueError(f"conduct_end {self.conduct_end!r} is not a date column")
        self._check_windows(names)
        return self

    def _check_windows(self, names: list[str]) -> None:
        if self.windows and not self.is_negative_information:
            raise ValueError("only negative information has publication windows")
        for w in self.windows:
            for ref in (w.starts, w.ends_with):
                if ref is not None and (ref not in names or self.column(ref).type != "date"):
                    raise ValueError(f"window column {ref!r} is not a date column of the table")

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def is_negative_information(self) -> bool:
        return self.negative or self.negative_when is not None

    @property
    def negative_predicate(self) -> str | None:
        """SQL predicate over stored columns that is true for a negative row, or None."""
        if self.negative:
            return "TRUE"
        return self.negative_when

    @property
    def key_stored(self) -> str:
        """The stored name of the (single) key column that identifies a record."""
        return self.column(self.key[0]).stored_name

    @property
    def subject_column(self) -> Column | None:
        return next((c for c in self.columns if c.type == "id_number"), None)


class Provider(_Frozen):
    id: str
    zh: str
    en: str


class Registry(_Frozen):
    """All source tables and providers; look-ups raise the vault's typed errors."""

    version: str
    retention_years: int
    providers: tuple[Provider, ...]
    towns: tuple[str, ...]
    tables: tuple[Table, ...]

    @model_validator(mode="after")
    def _consistent(self) -> Registry:
        provider_ids = {p.id for p in self.providers}
        for t in self.tables:
            for p in t.providers:
                if p not in provider_ids:
                    raise ValueError(f"table {t.name}: unknown provider {p!r}")
        if len({t.name for t in self.tables}) != len(self.tables):
            raise ValueError("duplicate table names")
        return self

    def table(self, name: str) -> Table:
        for t in self.tables:
            if t.name == name:
                return t
        raise UnknownTableError(name)

    def provider(self, provider_id: str) -> Provider:
        for p in self.providers:
            if p.id == provider_id:
                return p
        raise UnknownProviderError(provider_id)

    def tables_of(self, provider_id: str) -> tuple[Table, ...]:
        self.provider(provider_id)
        return tuple(t for t in self.tables if provider_id in t.providers)

    def check_contributes(self, provider_id: str, table: str) -> Table:
        t = self.table(table)
        if provider_id not in t.providers:
            self.provider(provider_id)
            raise UnknownProviderError(provider_id, table)
        return t

    @cached_property
    def digest(self) -> str:
        """Hex SHA-256 of the registry's RFC 8785 canonical JSON: the schema version's identity."""
        return hashlib.sha256(rfc8785.dumps(self.model_dump(mode="json"))).hexdigest()


def _check_prohibited(table: dict[str, object]) -> None:
    for column in table.get("columns", ()):  # type: ignore[attr-defined]
        name = str(column.get("name", ""))
        category = prohibited_category(name)
        if category:
            raise ProhibitedColumnError(f"table {table.get('name')}", name, category)


def _parse_table(raw: dict[str, object]) -> Table:
    _check_prohibited(raw)
    try:
        return Table.model_validate(raw)
    except ValidationError as exc:
        raise RegistryError(f"table {raw.get('name')}", _first_problem(exc)) from None


def _first_problem(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    return f"{where}: {first['msg']}" if where else first["msg"]


def parse_registry(document: dict[str, Any]) -> Registry:
    """Build a `Registry` from a parsed TOML document; raise `RegistryError` on any problem."""
    tables = tuple(_parse_table(t) for t in document.get("tables", ()))
    meta = document.get("meta", {})
    try:
        return Registry(
            version=meta.get("version"),
            retention_years=meta.get("retention_years"),
            providers=tuple(Provider(id=k, **v) for k, v in document.get("providers", {}).items()),
            towns=tuple(document.get("geography", {}).get("towns", ())),
            tables=tables,
        )
    except ValidationError as exc:
        raise RegistryError("registry", _first_problem(exc)) from None


def load_registry(path: Path = SCHEMA_FILE) -> Registry:
    """Load and validate the registry file (by default the shipped ``schema/tables.toml``)."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(str(path), f"not valid TOML: {exc}") from None
    return parse_registry(document)
