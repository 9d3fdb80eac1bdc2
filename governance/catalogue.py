"""The catalogue of approved computations, loaded from `catalogue.toml` (data, hashed).

A computation's ``hash`` is the SHA-256 of the RFC 8785 canonical JSON of its entry; an
access request must name it, and the approval on the ledger binds it. An unknown id is
refused (`NotFound` with reason ``unknown_computation``).
"""

from __future__ import annotations

import hashlib
import tomllib
from functools import cached_property
from pathlib import Path
from typing import Literal

import rfc8785
from pydantic import BaseModel, ConfigDict, Field

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

    @cached_property
    def hash(self) -> str:
        return hashlib.sha256(rfc8785.dumps(self.model_dump(mode="json"))).hexdigest()


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
