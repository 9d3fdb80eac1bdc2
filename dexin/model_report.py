"""Gathering the validation report's inputs from the vault (scores on several dates, and
loan outcomes after a back-test date); the metrics and the page are `credit_model.report`.

Nothing identifying leaves the vault: each query returns scores, bands and the grouping
attributes only (sex, birth year, town), never a pseudonym.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from credit_model import (
    Backtest,
    ModelSpec,
    Population,
    ReportInputs,
    feature_sql,
    score_sql,
    write_report,
)
from vault import Vault

OUTCOME_LAG_DAYS = 91  # an instalment must be due this long before the end to show a default


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _scores_sql(vault: Vault, spec: ModelSpec, as_of: dt.date) -> str:
    features = f"({feature_sql(spec, vault.registry, as_of)})"
    return f"({score_sql(spec, features, {})})"


def population(vault: Vault, spec: ModelSpec, as_of: dt.date) -> Population:
    """The population scored on ``as_of`` (computed afresh; nothing is materialised)."""
    dims = ", ".join(f"dim_{d.id}" for d in spec.dimensions)
    rows = vault.query(
        f"SELECT morality_points, morality_code, eligible, vetoed, sex, "
        f"year(as_of) - birth_year, town_code, {dims} FROM {_scores_sql(vault, spec, as_of)} "
        f"WHERE no_score IS NULL ORDER BY subject"
    )
    missing = vault.query(
        f"SELECT no_score, count(*) FROM {_scores_sql(vault, spec, as_of)} "
        f"WHERE no_score IS NOT NULL GROUP BY ALL ORDER BY 1"
    )
    cols = list(zip(*rows, strict=True)) if rows else [()] * (7 + len(spec.dimensions))
    return Population(
        as_of=as_of,
        points=np.asarray(cols[0], dtype=np.float64),
        bands=list(cols[1]),
        eligible=np.asarray(cols[2], dtype=np.bool_),
        vetoed=np.asarray(cols[3], dtype=np.bool_),
        sex=list(cols[4]),
        age=np.asarray(cols[5], dtype=np.int64),
        town=list(cols[6]),
        dims=np.asarray(cols[7:], dtype=np.float64).T.reshape(len(rows), len(spec.dimensions)),
        no_score={str(code): int(n) for code, n in missing},
    )


def backtest(vault: Vault, spec: ModelSpec, observation: dt.date) -> Backtest:
    """Scores on ``observation`` of people with instalments due after it (up to the
    outcome lag before the vault's as-of date); bad if one went 90+ days overdue."""
    until = vault.as_of - dt.timedelta(days=OUTCOME_LAG_DAYS)
    rows = vault.query(
        f"WITH o AS (SELECT subject, bool_or(days_overdue >= 90) AS bad FROM src.loan_repayments "
        f"WHERE due_date > ? AND due_date <= ? GROUP BY subject) "
        f"SELECT CASE WHEN s.vetoed THEN 0.0 ELSE s.morality_points END, s.morality_code, o.bad, "
        f"s.sex, year(s.as_of) - s.birth_year FROM o JOIN {_scores_sql(vault, spec, observation)} s "
        f"ON s.subject = o.subject WHERE s.no_score IS NULL ORDER BY s.subject",
        [observation, until],
    )
    cols = list(zip(*rows, strict=True)) if rows else [()] * 5
    return Backtest(
        observation=observation,
        outcome_until=until,
        decision=np.asarray(cols[0], dtype=np.float64),
        bands=list(cols[1]),
        bad=np.asarray(cols[2], dtype=np.bool_),
        sex=list(cols[3]),
        age=np.asarray(cols[4], dtype=np.int64),
    )


def build_report(
    vault: Vault, spec: ModelSpec, out_dir: Path, observation: dt.date | None = None
) -> Path:
    """Write the validation report; the back-test observes scores two years before the
    vault's as-of date unless ``observation`` says otherwise. Returns index.html's path."""
    observation = observation or _years_before(vault.as_of, 2)
    history = tuple(population(vault, spec, _years_before(vault.as_of, k)) for k in (3, 2, 1))
    inputs = ReportInputs(
        spec=spec,
        current=population(vault, spec, vault.as_of),
        history=history,
        backtest=backtest(vault, spec, observation),
    )
    return write_report(inputs, out_dir)
