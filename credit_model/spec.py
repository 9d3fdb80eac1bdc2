"""The model spec: a declarative, versioned description of the 五维图 scorecard.

A spec is a TOML data file (``credit_model/specs/<id>-<version>.toml``) parsed into the
frozen models below. `load_spec` refuses a bad spec with a `SpecError` subclass naming the
problem: a malformed field, an unknown table or column (checked against the vault's schema
registry), dimension weights that do not add up to 1, bands that overlap or leave a gap.

The identity of a model version is `ModelSpec.digest`: the SHA-256 of the RFC 8785
canonical JSON of the parsed spec (so comments and formatting do not change it). That is
the hash a release anchors on the ledger.
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

from credit_model.errors import SpecError
from vault import Registry, load_registry

SPECS_DIR = Path(__file__).parent / "specs"
DEFAULT_SPEC = SPECS_DIR / "wuweitu-1.toml"
IDENT = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
REASON_CODE = re.compile(r"^[A-Z]{2}\d{2}$")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Reason(_Frozen):
    """A reason code with its user-facing texts (zh-CN first, then English)."""

    code: str = Field(pattern=REASON_CODE.pattern)
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Dimension(_Frozen):
    """One of the five dimensions: its weight in the composite and its base score (the
    score of a person with no records that count in it), both on a 0–100 scale."""

    id: str = Field(pattern=IDENT.pattern)
    zh: str
    en: str
    weight: float = Field(gt=0, le=1)
    base: float = Field(ge=0, le=100)


Op = Literal["=", "!=", "<", "<=", ">", ">=", "in", "not_in", "is_null", "not_null"]
Scalar = bool | int | float | str


class Condition(_Frozen):
    """A row filter: ``column op value``, or ``elapsed op value`` where ``elapsed = [start,
    end]`` is the number of days from ``start`` to ``end`` — or to the as-of date while
    ``end`` is empty or later (e.g. days overdue as known on that date)."""

    column: str | None = None
    elapsed: tuple[str, str] | None = None
    op: Op
    value: Scalar | None = None
    values: tuple[Scalar, ...] | None = None

    @model_validator(mode="after")
    def _shape(self) -> Condition:
        if (self.column is None) == (self.elapsed is None):
            raise ValueError("a condition names exactly one of column or elapsed")
        needs = {"in": "values", "not_in": "values", "is_null": None, "not_null": None}
        wanted = needs.get(self.op, "value")
        if (self.values is not None) != (wanted == "values"):
            raise ValueError(
                f"operator {self.op!r} {'needs' if wanted == 'values' else 'takes no'} values"
            )
        if (self.value is not None) != (wanted == "value"):
            raise ValueError(
                f"operator {self.op!r} {'needs' if wanted == 'value' else 'takes no'} value"
            )
        return self


class Selection(_Frozen):
    """Which rows of one table count, relative to the as-of date ``d``: rows whose ``date``
    lies after ``d`` never count (what was not yet known); with ``window_days``, only rows
    with ``d - window_days < date <= d``; with ``open_at = [start, end]``, only rows open on
    ``d`` (``start <= d`` and ``end`` empty or after ``d``). Negative rows past the 5-year
    rule (relative to ``d``) never count."""

    table: str
    date: str
    window_days: int | None = Field(default=None, gt=0)
    where: tuple[Condition, ...] = ()
    open_at: tuple[str, str] | None = None


class Weighting(_Frozen):
    """Each row's value is multiplied by ``map[row.column]`` (0 for a value not in the map)."""

    column: str
    map: dict[str, float]

    @model_validator(mode="after")
    def _non_negative(self) -> Weighting:
        if any(w < 0 for w in self.map.values()):
            raise ValueError("weights must not be negative (features are monotone in records)")
        return self


class Feature(Selection):
    """An aggregate of one table per subject: ``count`` rows or ``sum`` a column (less
    ``minus``, or negated; a row's value is never below 0, so every feature is a sum of
    non-negative terms and monotone in the rows it selects), each row weighted (``weights``) and decayed by half-life (``half_life_days``, by age of ``date``),
    capped at ``cap``. It moves its dimension's score by ``points`` per unit of the capped
    value, up (``positive``) or down (``negative``)."""

    id: str = Field(pattern=IDENT.pattern)
    dimension: str
    direction: Literal["positive", "negative"]
    measure: Literal["count", "sum"]
    value: str | None = None
    minus: str | None = None
    negate: bool = False
    weights: tuple[Weighting, ...] = ()
    half_life_days: float | None = Field(default=None, gt=0)
    cap: float = Field(gt=0)
    points: float = Field(gt=0)
    reason: Reason

    @model_validator(mode="after")
    def _value(self) -> Feature:
        if (self.measure == "sum") != (self.value is not None):
            raise ValueError("a sum names its value column; a count names none")
        if (self.negate or self.minus is not None) and self.value is None:
            raise ValueError("negate and minus apply to a summed value")
        return self

    @property
    def max_points(self) -> float:
        return self.points * self.cap


class Veto(Selection):
    """一票否决: if any row is selected, the subject gets no credit, with this reason."""

    id: str = Field(pattern=IDENT.pattern)
    dimension: str
    reason: Reason


class Band(_Frozen):
    """A morality-code (道德码) band over morality points: ``min <= points < max`` (the top
    band includes its max). Credit lines are in CNY, for a person and for a household."""

    code: str = Field(pattern=r"^[A-Z]$")
    zh: str
    en: str
    min: float
    max: float
    credit_line: int = Field(ge=0)
    household_line: int = Field(ge=0)
    expected_default_rate: float = Field(ge=0, le=1)
    colour: str = Field(pattern=r"^#[0-9a-f]{6}$")


class Points(_Frozen):
    """The morality-points (道德积分) scale: the composite 0–100 maps onto 0–``scale``."""

    scale: float = Field(gt=0)
    qualifying: float = Field(gt=0)


class Eligibility(_Frozen):
    min_age: int = Field(ge=0, le=120)
    min_sources: int = Field(ge=0, le=16)


class ModelSpec(_Frozen):
    """A whole model version. Build it with `load_spec` / `parse_spec` (which also check it)."""

    model_id: str = Field(pattern=IDENT.pattern)
    version: int = Field(ge=1, lt=2**32)
    zh: str
    en: str
    points: Points
    eligibility: Eligibility
    dimensions: tuple[Dimension, ...]
    features: tuple[Feature, ...]
    vetoes: tuple[Veto, ...]
    bands: tuple[Band, ...]

    @property
    def ref(self) -> str:
        """``model_id@version``, how a score names its model."""
        return f"{self.model_id}@{self.version}"

    @cached_property
    def digest(self) -> bytes:
        """SHA-256 of the RFC 8785 canonical JSON of the spec: the version's identity."""
        return hashlib.sha256(rfc8785.dumps(self.model_dump(mode="json"))).digest()

    @cached_property
    def dimensions_by_id(self) -> dict[str, Dimension]:
        return {d.id: d for d in self.dimensions}

    def dimension(self, dimension_id: str) -> Dimension:
        return self.dimensions_by_id[dimension_id]

    def band_for(self, points: float) -> Band:
        """The band holding ``points`` (bands are contiguous and cover 0..scale)."""
        for band in self.bands:
            if band.min <= points < band.max:
                return band
        return max(self.bands, key=lambda b: b.max)

    def tables(self) -> tuple[str, ...]:
        """Every table the spec reads, in first-use order."""
        seen = dict.fromkeys(s.table for s in (*self.features, *self.vetoes))
        return tuple(seen)


def _first_problem(exc: ValidationError) -> tuple[str, str]:
    first = exc.errors()[0]
    return ".".join(str(p) for p in first["loc"]) or "spec", first["msg"]


def parse_spec(document: dict[str, Any], registry: Registry) -> ModelSpec:
    """Build and check a spec from a parsed document against the vault's schema registry
    (`vault.registry.Registry`). Raises a `SpecError` subclass naming the first problem."""
    from credit_model.checks import check_spec

    model = dict(document.get("model", {}))
    body = {k: v for k, v in document.items() if k != "model"}
    fields = {"model_id": model.pop("id", None), **model, **body}
    try:
        spec = ModelSpec.model_validate(fields)
    except ValidationError as exc:
        raise SpecError(*_first_problem(exc)) from None
    check_spec(spec, registry)
    return spec


def load_spec(path: Path = DEFAULT_SPEC, registry: Registry | None = None) -> ModelSpec:
    """Load, parse and check a spec file (by default the shipped wuweitu version)."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(str(path.name), f"not valid TOML: {exc}") from None
    return parse_spec(document, registry if registry is not None else load_registry())
