"""At scale 0.01 the world has plausible sizes, and propensity drives conduct and default."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pytest

from synthetic import GenerationSummary
from synthetic._rates import expected_rows

NEGATIVE = [
    ("court", "criminal_judgments"),
    ("court", "dishonest_debtors"),
    ("public_security", "public_security_penalties"),
    ("market_regulation", "administrative_penalties"),
    ("urban_management", "administrative_penalties"),
    ("tax_bureau", "tax_arrears"),
    ("utilities", "utility_arrears"),
    ("traffic_police", "traffic_violations"),
]
POSITIVE = [
    ("volunteer_platform", "volunteer_service"),
    ("blood_centre", "blood_donations"),
    ("charity_federation", "charitable_donations"),
    ("civilisation_office", "honors_awards"),
]


def read(summary: GenerationSummary, provider: str, table: str) -> pa.Table:
    options = pa_csv.ConvertOptions(strings_can_be_null=True)
    return pa_csv.read_csv(summary.out_dir / provider / f"{table}.csv", convert_options=options)


def propensity(summary: GenerationSummary) -> dict[str, float]:
    truth = pa_csv.read_csv(summary.out_dir / "_truth" / "persons.csv")
    ids = truth["id_number"].cast(pa.string()).to_pylist()
    return dict(zip(ids, truth["propensity"].to_pylist(), strict=True))


def counts_per_person(summary: GenerationSummary, streams: list[tuple[str, str]]) -> np.ndarray:
    latent = propensity(summary)
    index = {k: i for i, k in enumerate(latent)}
    counts = np.zeros(len(latent))
    for provider, table in streams:
        for subject in read(summary, provider, table)["id_number"].cast(pa.string()).to_pylist():
            counts[index[subject]] += 1
    return counts


def test_row_counts_are_near_the_declared_rates(small_csv: GenerationSummary) -> None:
    for key, rows in small_csv.row_counts.items():
        expected = expected_rows(*key.split("/")) * 0.01
        tolerance = 0.25 if expected >= 2_000 else 0.8
        assert abs(rows - expected) <= tolerance * expected + 5, (key, rows, expected)
    assert 0.85 * 377_750 < small_csv.total_rows < 1.15 * 377_750


def test_the_world_has_yuyaos_shape(small_csv: GenerationSummary) -> None:
    facts = json.loads((small_csv.out_dir / "_truth" / "summary.json").read_text("utf-8"))
    assert facts["residents"] == 8_500
    assert 2.6 < facts["residents"] / facts["households"] < 3.0
    assert facts["towns"] == 21
    assert 250 <= facts["villages"] <= 350
    assert 1_700 <= facts["grids"] <= 2_300
    assert facts["row_counts"] == dict(small_csv.row_counts)


def test_low_propensity_means_more_negative_records(small_csv: GenerationSummary) -> None:
    latent = np.array(list(propensity(small_csv).values()))
    negatives = counts_per_person(small_csv, NEGATIVE)
    positives = counts_per_person(small_csv, POSITIVE)
    assert np.corrcoef(latent, negatives)[0, 1] < -0.1
    assert np.corrcoef(latent, positives)[0, 1] > 0.1


def test_low_propensity_means_more_loan_defaults(small_csv: GenerationSummary) -> None:
    truth = pa_csv.read_csv(small_csv.out_dir / "_truth" / "persons.csv")
    borrowers = truth.filter(pc.field("borrower"))
    defaulted = np.array(borrowers["defaulted"].to_pylist(), dtype=bool)
    latent = np.array(borrowers["propensity"].to_pylist())
    assert 0.02 < defaulted.mean() < 0.25
    assert latent[defaulted].mean() < latent[~defaulted].mean() - 0.5


def test_every_defaulted_loan_has_an_instalment_90_days_overdue(
    small_csv: GenerationSummary,
) -> None:
    rows = read(small_csv, "banks", "loan_repayments")
    worst = rows.group_by("loan_id").aggregate([("days_overdue", "max")])
    late = set(worst.filter(pc.greater_equal(worst["days_overdue_max"], 90))["loan_id"].to_pylist())
    loans = pa_csv.read_csv(small_csv.out_dir / "_truth" / "loans.csv")
    defaulted = set(loans.filter(pc.field("defaulted"))["loan_id"].to_pylist())
    assert late == defaulted


@pytest.mark.parametrize(
    ("provider", "table", "end"),
    [
        ("court", "dishonest_debtors", "removed_date"),
        ("tax_bureau", "tax_arrears", "paid_date"),
        ("utilities", "utility_arrears", "paid_date"),
        ("banks", "loan_repayments", "paid_date"),
    ],
)
def test_some_conduct_is_expired_and_some_still_open(
    small_csv: GenerationSummary, provider: str, table: str, end: str
) -> None:
    column = read(small_csv, provider, table)[end]
    assert column.null_count > 0
    cutoff = pa.scalar(dt.date(2021, 11, 1), pa.date32())  # five years before the as-of date
    assert pc.sum(pc.less(column, cutoff)).as_py() > 0
