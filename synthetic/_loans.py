"""Household loans: a plan per loan (drawn once per world) and its monthly instalments.

Published Yuyao figures are a snapshot: 45,502 signed households and 19,089 borrowing
households. The banks' repayment history over ten years is larger: renewals ("一年一贷")
and consumer and business loans of the participating banks. So about 30% of household heads
aged 28–70 borrow (a little more often at high propensity), with 1 + Poisson(2.5) loans each,
terms of 12/24/36/60 months, giving about 6 million instalment rows at scale 1.0.

A loan defaults (the truth label) when one of its instalments becomes 90+ days overdue: with
probability logistic(−3.6 − 1.3·propensity), at an instalment due in the window at least 91
days before the as-of date; afterwards the debt is either recovered in a lump at least 90 days
late (half the cases, when that date falls in the window) or stays unpaid. Loans that do not
default are paid on time, or late by 1–60 days with probability logistic(−3.2 − 0.9·propensity).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from synthetic import _calendar as cal
from synthetic._ids import affine_numbers
from synthetic._random import logistic, lognormal_int, pick_int

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

BORROWING_SHARE = 0.30
EXTRA_LOANS = 2.5
TERMS = {12: 0.35, 24: 0.25, 36: 0.30, 60: 0.10}
MONTHLY_RATE = 0.0045
FIRST_MONTH = int(cal.month_index(np.array([cal.WINDOW_START]))[0])
LAST_MONTH = int(cal.month_index(np.array([cal.WINDOW_END]))[0])
LATEST_DEFAULT_DUE = cal.AS_OF - 91
LATEST_DEFAULT_MONTH = int(cal.month_index(np.array([LATEST_DEFAULT_DUE]))[0])


@dataclass(frozen=True)
class LoanPlan:
    """One entry per loan, sorted by borrower; ``default_at`` is −1 for loans that never default."""

    borrower: I64
    number: I64
    first_month: I64
    due_day: I64
    term: I64
    instalment_cents: I64
    default_at: I64
    recovered_on: I64

    def due_dates(self, loan: I64, j: I64) -> npt.NDArray[np.int32]:
        """Due date of instalment ``j`` (0-based) of each ``loan``."""
        return cal.month_start(self.first_month[loan] + j) + self.due_day[loan].astype(np.int32) - 1

    def defaulted(self) -> npt.NDArray[np.bool_]:
        return self.default_at >= 0


def _borrowers(rng: np.random.Generator, relation: I64, age: I64, propensity: F64) -> I64:
    eligible = (relation == 0) & (age >= 28) & (age <= 70)
    lift = np.exp(0.3 * propensity - 0.045)
    chosen = eligible & (rng.uniform(size=age.size) < BORROWING_SHARE * lift)
    return np.flatnonzero(chosen)


def _instalment(principal: I64, term: I64) -> I64:
    growth = (1 + MONTHLY_RATE) ** term
    cents: I64 = np.round(principal * MONTHLY_RATE * growth / (growth - 1)).astype(np.int64)
    return cents


def _defaults(rng: np.random.Generator, plan: LoanPlan, z: F64) -> tuple[I64, I64]:
    loans = np.arange(plan.borrower.size)
    lo = np.maximum(0, FIRST_MONTH - plan.first_month)
    hi = np.minimum(plan.term - 1, LATEST_DEFAULT_MONTH - plan.first_month)
    hi = np.where(plan.due_dates(loans, hi) > LATEST_DEFAULT_DUE, hi - 1, hi)
    can = hi >= lo
    hit = can & (rng.uniform(size=loans.size) < logistic(-3.6 - 1.3 * z))
    at = lo + np.floor(rng.uniform(size=loans.size) * (hi - lo + 1)).astype(np.int64)
    default_at = np.where(hit, at, -1)
    late = lognormal_int(rng, 120, 0.8, 0, 3000, loans.size)
    recovered = plan.due_dates(loans, np.maximum(at, 0)) + 90 + late
    keep = hit & (rng.uniform(size=loans.size) < 0.5) & (recovered <= cal.WINDOW_END)
    return default_at, np.where(keep, recovered, -1).astype(np.int64)


def plan_loans(rng: np.random.Generator, relation: I64, age: I64, propensity: F64) -> LoanPlan:
    """Draw every loan of the world: borrowers, terms, amounts, and which ones default."""
    heads = _borrowers(rng, relation, age, propensity)
    borrower = np.repeat(heads, 1 + rng.poisson(EXTRA_LOANS, size=heads.size))
    n = borrower.size
    term = pick_int(rng, TERMS, n)
    earliest = np.maximum(FIRST_MONTH - term + 1, LAST_MONTH - (age[borrower] - 20) * 12)
    first = earliest + np.floor(rng.uniform(size=n) * (LAST_MONTH + 1 - earliest)).astype(np.int64)
    principal = lognormal_int(rng, 10_000_000, 0.7, 1_000_000, 200_000_000, n)
    number = affine_numbers(n, 1_000_000_000, 9_000_000_000, int(rng.integers(1 << 30)))
    plan = LoanPlan(
        borrower,
        number,
        first,
        rng.integers(1, 29, size=n),
        term,
        _instalment(principal, term),
        np.full(n, -1),
        np.full(n, -1),
    )
    default_at, recovered = _defaults(rng, plan, propensity[borrower])
    return LoanPlan(
        borrower, number, first, plan.due_day, term, plan.instalment_cents, default_at, recovered
    )


@dataclass(frozen=True)
class Instalments:
    """Instalment rows of some loans; ``paid`` is −1 while unpaid."""

    loan: I64
    due: npt.NDArray[np.int32]
    paid: I64
    amount_paid: I64
    days_overdue: I64


def instalments(
    plan: LoanPlan, propensity: F64, lo: int, hi: int, rng: np.random.Generator
) -> Instalments:
    """The window's instalments of the loans of borrowers ``lo`` ≤ person < ``hi``."""
    first, last = np.searchsorted(plan.borrower, [lo, hi])
    loans = np.arange(first, last)
    loan = np.repeat(loans, plan.term[loans])
    j = np.arange(loan.size) - np.repeat(
        np.cumsum(plan.term[loans]) - plan.term[loans], plan.term[loans]
    )
    due = plan.due_dates(loan, j)
    keep = (due >= cal.WINDOW_START) & (due <= cal.WINDOW_END)
    loan, j, due = loan[keep], j[keep], due[keep]
    z = propensity[plan.borrower[loan]]
    late = np.where(
        rng.uniform(size=loan.size) < logistic(-3.2 - 0.9 * z),
        np.minimum(rng.geometric(1 / 8, size=loan.size), 60),
        0,
    )
    paid = (due + late).astype(np.int64)
    k, recovered = plan.default_at[loan], plan.recovered_on[loan]
    in_default = (k >= 0) & (j >= k)
    lump = in_default & (recovered >= 0) & (due < recovered)
    paid = np.where(lump, recovered, paid)
    unpaid = (in_default & ~lump & (recovered < 0)) | (paid > cal.WINDOW_END)
    paid = np.where(unpaid, -1, paid)
    days = np.where(unpaid, np.minimum(cal.AS_OF - due, 3650), paid - due)
    amount = np.where(unpaid, 0, plan.instalment_cents[loan])
    return Instalments(loan, due, paid, amount, days.astype(np.int64))
