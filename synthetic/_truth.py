"""The hidden truth, for validating credit models: written under ``OUT/_truth/``.

The vault's directory ingest skips folders starting with ``_``. ``persons`` holds every
resident's ID number, household, latent propensity (standard normal; higher is better
conduct), whether they borrowed and whether any of their loans defaulted (an instalment 90+
days overdue; empty for non-borrowers); ``loans`` holds one row per loan.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from synthetic import _calendar as cal
from synthetic import _columns as col
from synthetic._ids import prefixed
from synthetic._sinks import Format, write_table
from synthetic._world import World

TRUTH_DIR = "_truth"


def persons_table(world: World) -> pa.Table:
    """One row per resident: ID number, household, propensity, borrower, defaulted."""
    plan = world.loans
    borrower = np.zeros(world.people, dtype=np.bool_)
    borrower[plan.borrower] = True
    defaulted = np.zeros(world.people, dtype=np.bool_)
    defaulted[plan.borrower[plan.defaulted()]] = True
    return pa.table(
        {
            "id_number": world.ids,
            "household_id": col.take(world.household_numbers, world.household),
            "propensity": col.decimals(np.round(world.propensity * 1e6).astype(np.int64), 6),
            "borrower": col.booleans(borrower),
            "defaulted": pa.array(defaulted, mask=~borrower),
        }
    )


def loans_table(world: World) -> pa.Table:
    """One row per loan: borrower, first due date, term, instalment and default outcome."""
    plan = world.loans
    loans = np.arange(plan.borrower.size)
    default_due = plan.due_dates(loans, np.maximum(plan.default_at, 0))
    return pa.table(
        {
            "loan_id": prefixed("L", plan.number, 10),
            "id_number": col.take(world.ids, plan.borrower),
            "first_due_date": col.dates(plan.due_dates(loans, np.zeros_like(loans))),
            "term_months": col.integers(plan.term),
            "instalment": col.decimals(plan.instalment_cents, 2),
            "defaulted": col.booleans(plan.defaulted()),
            "default_due_date": col.dates(default_due, null=~plan.defaulted()),
        }
    )


def write_truth(world: World, out_dir: Path, fmt: Format, summary: dict[str, Any]) -> None:
    """Write ``persons``, ``loans`` and, last, ``summary.json`` (its presence marks a full run)."""
    truth = out_dir / TRUTH_DIR
    write_table(truth / "persons", persons_table(world), fmt)
    write_table(truth / "loans", loans_table(world), fmt)
    text = json.dumps(summary, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    (truth / "summary.json").write_text(text, encoding="utf-8")


def world_facts(world: World) -> dict[str, Any]:
    """Counts describing the world, for summary.json."""
    geography = world.geography
    return {
        "as_of": cal.AS_OF_DATE.isoformat(),
        "window": ["2016-11-01", "2026-10-31"],
        "residents": world.people,
        "households": world.households,
        "towns": int(geography.village_town.max()) + 1,
        "villages": int(geography.village_town.size),
        "grids": int(geography.grid_village.size),
        "borrowers": int(np.unique(world.loans.borrower).size),
        "loans": int(world.loans.borrower.size),
        "defaulted_loans": int(world.loans.defaulted().sum()),
    }
