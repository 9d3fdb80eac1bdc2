"""Hand-made feature rows for the scorecard tests (the vectors in ``vectors/`` use them)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from credit_model.features import FeatureRow
from credit_model.spec import ModelSpec

VECTORS = Path(__file__).parent / "vectors"
AS_OF = dt.date(2026, 11, 1)


def profile(
    spec: ModelSpec,
    features: dict[str, float] | None = None,
    vetoes: list[str] | tuple[str, ...] = (),
    coverage: dict[str, int] | None = None,
    birth_year: int = 1980,
    subject: str = "s" * 32,
    household: str = "h" * 32,
) -> FeatureRow:
    """A feature row: unnamed features 0, unnamed vetoes off; one moral review by default."""
    values = {f.id: 0.0 for f in spec.features} | (features or {})
    counts = {t: 0 for t in spec.tables()} | (
        coverage if coverage is not None else {"moral_reviews": 1}
    )
    return FeatureRow(
        subject=subject, household=household, birth_year=birth_year, sex="F",
        town_code="T01", village_code="T01V001", as_of=AS_OF, spec_digest=spec.digest.hex(),
        values=values, vetoes={v.id: v.id in vetoes for v in spec.vetoes}, coverage=counts,
    )  # fmt: skip


def load_vector(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / f"{name}.json").read_text(encoding="utf-8"))
    return data


def vector_row(spec: ModelSpec, name: str, subject: str | None = None) -> FeatureRow:
    v = load_vector(name)
    return profile(spec, v["features"], v["vetoes"], v["coverage"], v["birth_year"],
                   subject=subject or name.ljust(32, "-")[:32])  # fmt: skip
