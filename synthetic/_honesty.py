"""Honesty tables: dishonest debtors, tax and utility arrears, social insurance, loans."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from synthetic import _calendar as cal
from synthetic import _columns as col
from synthetic._chunk import Chunk, Columns
from synthetic._ids import prefixed
from synthetic._loans import instalments
from synthetic._random import logistic, lognormal_int, pick

I64 = npt.NDArray[np.int64]
CONTRIBUTION_YEARS = (2017, 2026)  # ten yearly records; 2026 is due for ten months
UNEMPLOYMENT_SHARE = 0.2
INSURED_SHARE = 0.83


def _settled(
    chunk: Chunk,
    start: npt.NDArray[np.integer],
    p_never: npt.NDArray[np.float64],
    median_days: float,
) -> I64:
    """Day each obligation was settled, or −1 when still open at the end of the window."""
    n = start.size
    day = start + lognormal_int(chunk.rng, median_days, 1.0, 1, 3650, n)
    never = chunk.rng.uniform(size=n) < p_never
    return np.where(never | (day > cal.WINDOW_END), -1, day).astype(np.int64)


def dishonest_debtors(chunk: Chunk) -> Columns:
    ev, rng = chunk.events(), chunk.rng
    removed = _settled(chunk, ev.day, logistic(-1.0 - 0.8 * ev.propensity), 400)
    return {
        "record_id": chunk.record_ids(ev.day),
        "id_number": chunk.ids(ev.person),
        "listed_date": col.dates(ev.day),
        "removed_date": col.dates(removed, null=removed < 0),
        "amount": col.decimals(lognormal_int(rng, 8_000_000, 1.2, 100_000, 10**10, ev.size), 2),
        "case_type": pick(
            rng,
            {"private_loan": 40, "contract": 25, "commercial": 20, "tort": 10, "labour": 5},
            ev.size,
        ).arrow(),
    }


def tax_arrears(chunk: Chunk) -> Columns:
    ev, rng = chunk.events(), chunk.rng
    period_end = cal.month_end(cal.month_index(ev.day))
    paid = _settled(chunk, period_end, logistic(-1.5 - 0.8 * ev.propensity), 120)
    return {
        "record_id": chunk.record_ids(ev.day),
        "id_number": chunk.ids(ev.person),
        "tax_type": pick(
            rng,
            {
                "individual_income": 35,
                "vehicle_vessel": 25,
                "property": 20,
                "land_use": 10,
                "business": 10,
            },
            ev.size,
        ).arrow(),
        "period_end": col.dates(period_end),
        "amount": col.decimals(lognormal_int(rng, 200_000, 1.3, 100, 10**10, ev.size), 2),
        "paid_date": col.dates(paid, null=paid < 0),
    }


UTILITIES = {"electricity": (40, 15_000), "water": (35, 6_000), "gas": (25, 8_000)}


def utility_arrears(chunk: Chunk) -> Columns:
    ev, rng = chunk.events(), chunk.rng
    utility = pick(rng, {k: v[0] for k, v in UTILITIES.items()}, ev.size)
    median = np.array([v[1] for v in UTILITIES.values()])[utility.codes]
    bill_month = cal.month_index(ev.day) - 1
    due = cal.month_start(bill_month + 1) + 14
    paid = _settled(chunk, due, logistic(-2.5 - 0.8 * ev.propensity), 25)
    days = np.where(paid < 0, np.minimum(cal.AS_OF - due, 3650), paid - due)
    amount = np.clip(np.round(median * np.exp(0.6 * rng.standard_normal(ev.size))), 1, 10**8)
    return {
        "record_id": chunk.record_ids(ev.day),
        "id_number": chunk.ids(ev.person),
        "utility": utility.arrow(),
        "bill_month": col.dates(cal.month_start(bill_month)),
        "amount": col.decimals(amount.astype(np.int64), 2),
        "days_overdue": col.integers(days),
        "paid_date": col.dates(paid, null=paid < 0),
    }


def _insured_years(chunk: Chunk) -> tuple[I64, I64, npt.NDArray[np.bool_]]:
    """(person, year, unemployment?) of every yearly record, people aged 18–59 that year."""
    world, lo, hi = chunk.world, chunk.lo, chunk.hi
    birth_year = cal.years_of(world.birth[lo:hi]).astype(np.int64)
    first = np.maximum(CONTRIBUTION_YEARS[0], birth_year + 18)
    last = np.minimum(CONTRIBUTION_YEARS[1], birth_year + 59)
    insured = chunk.rng.uniform(size=hi - lo) < INSURED_SHARE
    count = np.where(insured, np.maximum(0, last - first + 1), 0)
    unemployment = world.employee[lo:hi] & (chunk.rng.uniform(size=hi - lo) < UNEMPLOYMENT_SHARE)
    local = np.repeat(np.arange(hi - lo), count)
    year = first[local] + np.arange(local.size) - np.repeat(np.cumsum(count) - count, count)
    extra = unemployment[local]
    person = np.r_[local, local[extra]] + lo
    return (
        person,
        np.r_[year, year[extra]],
        np.r_[np.zeros(local.size, bool), np.ones(extra.sum(), bool)],
    )


def social_insurance(chunk: Chunk) -> Columns:
    person, year, unemployment = _insured_years(chunk)
    rng, z = chunk.rng, chunk.world.propensity[person]
    employee = chunk.world.employee[person]
    scheme = np.where(unemployment, 2, np.where(employee, 0, 1))
    due = np.where(year == CONTRIBUTION_YEARS[1], 10, 12)
    p_short = logistic(np.where(employee, -3.5, -2.0) - 1.0 * z)
    short = rng.uniform(size=person.size) < p_short
    missing = np.minimum(due, rng.integers(1, 13, size=person.size))
    order = np.lexsort((scheme, year, person))
    day = cal.year_start(year)
    return {
        "record_id": chunk.record_ids(day[order], "YSB"),
        "id_number": chunk.ids(person[order]),
        "year": col.integers(year[order]),
        "scheme": col.take(
            pa.array(["employee_pension", "resident_pension", "unemployment"]), scheme[order]
        ),
        "months_due": col.integers(due[order]),
        "months_paid": col.integers(np.where(short, due - missing, due)[order]),
    }


def loan_repayments(chunk: Chunk) -> Columns:
    plan = chunk.world.loans
    rows = instalments(plan, chunk.world.propensity, chunk.lo, chunk.hi, chunk.rng)
    due_cents = plan.instalment_cents[rows.loan]
    return {
        "record_id": chunk.record_ids(rows.due, "YDK"),
        "id_number": chunk.ids(plan.borrower[rows.loan]),
        "loan_id": prefixed("L", plan.number[rows.loan], 10),
        "due_date": col.dates(rows.due),
        "amount_due": col.decimals(due_cents, 2),
        "paid_date": col.dates(rows.paid, null=rows.paid < 0),
        "amount_paid": col.decimals(rows.amount_paid, 2),
        "days_overdue": col.integers(rows.days_overdue),
    }
