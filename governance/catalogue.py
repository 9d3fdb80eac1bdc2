"""The catalogue of approved computations, loaded from `catalogue.toml` (data, hashed).

A computation's ``hash`` is the SHA-256 of the RFC 8785 canonical JSON of its entry; an
access request must name it, and the approval on the ledger binds it. An unknown id is
refused (`NotFound` with reason ``unknown_computation``).

Inputs: a subject computation's one input is the subject's ID number, governed by their
consent. An aggregate computation's inputs are *scoped* (an approval's scope must name the
values it allows, `governance.scope`) unless listed in ``free``; each declares the format
of its values in ``formats`` (checked before a value is used or recorded). ``domains`` fixes
the values of the cell dimensions the catalogue owns (the morality codes), so every declared
cell is released, whatever the data holds.
The fields added after the catalogue's first format (``free``, ``formats``, ``domains``) are
hashed only when set, so an entry that does not use them keeps its hash and its approvals.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from functools import cached_property
from pathlib import Path
from typing import Literal

import rfc8785
from pydantic import BaseModel, ConfigDict, Field, model_validator

from governance.errors import NotFound

CATALOGUE = Path(__file__).with_name("catalogue.toml")

PURPOSES: dict[str, int] = {
    # the fixed list of purpose codes; the number is the code bound on the ledger
    "credit_assessment": 1,
    "post_loan_monitoring": 2,
    "statistics": 3,
}
Purpose = Literal["credit_assessment", "post_loan_monitoring", "statistics"]


class Computation(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    version: int = Field(ge=1)
    title: str
    privacy: Literal["subject", "aggregate"]
    unit: Literal["person", "household"] | None = None
    purposes: tuple[Purpose, ...]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    sensitivity: int | None = Field(default=None, ge=1)
    free: tuple[str, ...] = ()  # aggregate inputs any value of which is allowed
    formats: dict[str, str] = Field(default_factory=dict)  # aggregate input -> value pattern
    domains: dict[str, tuple[str, ...]] = Field(default_factory=dict)  # cell dimension -> values

    @model_validator(mode="after")
    def _inputs_declared(self) -> Computation:
        """Every input of an aggregate declares its format (scoped unless free); a subject
        computation declares neither (its input is governed by consent)."""
        if self.privacy == "subject" and (self.free or self.formats):
            raise ValueError(f"{self.id}: a subject computation's input is governed by consent")
        if not set(self.free) <= set(self.inputs):
            raise ValueError(f"{self.id}: free names an input it does not have")
        if self.privacy == "aggregate" and set(self.formats) != set(self.inputs):
            raise ValueError(f"{self.id}: every input (and only those) declares a format")
        for pattern in self.formats.values():
            re.compile(pattern)
        return self

    @property
    def scoped(self) -> tuple[str, ...]:
        """The inputs an approval's scope must cover (none for a subject computation)."""
        if self.privacy == "subject":
            return ()
        return tuple(i for i in self.inputs if i not in self.free)

    @cached_property
    def hash(self) -> str:
        unused = {name for name in ("free", "formats", "domains") if not getattr(self, name)}
        document = self.model_dump(mode="json", exclude=unused)
        return hashlib.sha256(rfc8785.dumps(document)).hexdigest()


class Catalogue:
    def __init__(self, computations: list[Computation]) -> None:
        self._by_id = {c.id: c for c in computations}
        if len(self._by_id) != len(computations):
            raise ValueError("duplicate computation id in the catalogue")

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._by_id.values())

    def get(self, computation_id: str) -> Computation:
        try:
            return self._by_id[computation_id]
        except KeyError:
            raise NotFound("unknown_computation") from None


def load_catalogue(path: Path = CATALOGUE) -> Catalogue:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return Catalogue([Computation.model_validate(c) for c in data["computations"]])
