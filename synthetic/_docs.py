"""`rates_markdown()`: the generator's rates and distributions, rendered from `_rates`."""

from __future__ import annotations

import math

from synthetic._ids import REGION_CODES
from synthetic._rates import EVENT_RATES, STRUCTURAL_RATES, EventRate, StructuralRate
from vault import load_registry

_WHO = {"everyone": "residents", "heads": "household heads", "drivers": "licensed drivers"}

_INTRO = """\
## Synthetic data: rates and distributions

`dexin data generate --scale S --seed N` builds a synthetic Yuyao, deterministic for a given
seed and scale (same arguments, byte-identical files). At scale 1.0 it holds about 850,000
residents in about 300,000 households, 21 towns, about 300 villages (10–18 per town) and
about 2,000 grids (5–8 per village), and about 36 million rows. Every count below scales
linearly with `--scale`. The world is observed as of 2026-11-01; events fall between
2016-11-01 and 2026-10-31, so about half of all negative records ended more than five years
before the as-of date (the retention rule excludes them) and some are still open (empty
`removed_date` / `paid_date`).

**Propensity.** Every resident has a hidden propensity *p* ~ N(0, 1) (55% of its variance is
shared within the household; higher is better conduct). It shifts how many rows a person
has in each table (rate ∝ e^{β·p}; the table gives β and the resulting rate ratio between
*p* = +1 and *p* = −1) and the values of some rows (ratings, deductions, severities,
shortfalls, settlement), and it drives loan default. The truth is written to
`OUT/_truth/` (`persons`: ID number, household, propensity, borrower, defaulted; `loans`;
`summary.json`), which directory ingest skips.

**Identifiers.** ID numbers are 18 characters with a valid ISO 7064 MOD 11-2 check
character, a birth date matching `birth_year`, and a 17th digit odd for men and even for
women. Their region codes are REGIONS: inside Ningbo's prefix 3302 but assigned to no
county (Ningbo's districts and county-level cities use 330201–330283), so no generated
number is a real person's. Household numbers are `H` + 9 digits, loan numbers `L` + 10.

**Loans.** Yuyao's published figures (45,502 signed households, 19,089 borrowing households)
are a snapshot of the morality-credit product. The banks' ten-year repayment history is
larger: annual renewals ("一年一贷") and the participating banks' other household loans. So
at scale 1.0 about 80,000 households borrow about 280,000 loans (about 3.6% default), and
their instalments due in the window give about 6 million rows.
"""


def _event_row(rate: EventRate) -> str:
    who = f"{_WHO[rate.who]} aged {rate.min_age}–{rate.max_age}"
    spread = "Poisson" if rate.dispersion is None else f"Gamma–Poisson (k = {rate.dispersion:g})"
    ratio = math.exp(2 * rate.beta)
    effect = f"β = {rate.beta:+.2f} (×{ratio:.2g})"
    return (
        f"| `{rate.table}` | {rate.provider} | {rate.rows:,} | {who}; {spread} | "
        f"{effect} | {rate.values} |"
    )


def _structural_row(rate: StructuralRate) -> str:
    head = f"| `{rate.table}` | {rate.provider} | {rate.rows:,} |"
    return f"{head} structural | see values | {rate.values} |"


def _ordered() -> list[EventRate | StructuralRate]:
    """All streams in registry order (table number, then provider order)."""
    registry = load_registry()
    rank = {(p, t.name): (t.no, i) for t in registry.tables for i, p in enumerate(t.providers)}
    rates: list[EventRate | StructuralRate] = [*STRUCTURAL_RATES, *EVENT_RATES]
    return sorted(rates, key=lambda r: rank[(r.provider, r.table)])


def rates_markdown() -> str:
    """A Markdown section for docs/data-dictionary.md: per table, rows at scale 1.0, who gets
    rows, how propensity shifts them, and the distribution of the values."""
    regions = f"{REGION_CODES[0]}–{REGION_CODES[-1]}"
    lines = [
        _INTRO.replace("REGIONS", regions),
        "| table | provider | rows at scale 1.0 | who gets rows | propensity | values |",
        "|---|---|---:|---|---|---|",
    ]
    rates = _ordered()
    lines += [_event_row(r) if isinstance(r, EventRate) else _structural_row(r) for r in rates]
    total = sum(r.rows for r in rates)
    lines += ["", f"Expected total at scale 1.0: {total:,} rows.", ""]
    return "\n".join(lines)
