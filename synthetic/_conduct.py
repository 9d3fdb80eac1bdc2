"""Moral review and law-abiding tables: reviews, grid points, penalties, judgments, traffic.

Rates and value distributions are declared in `_rates.EVENT_RATES`; comments say why.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from synthetic import _calendar as cal
from synthetic import _columns as col
from synthetic._chunk import Chunk, Columns
from synthetic._random import combine, logistic, lognormal_int, pick, pick_int

CATEGORIES = (
    "filial_piety",
    "neighbourliness",
    "integrity",
    "public_spirit",
    "diligence",
    "clean_courtyard",
)
GOOD_ITEMS = (
    "garbage_sorting",
    "courtyard_tidy",
    "meeting_attendance",
    "mediation",
    "elder_care",
    "fire_safety",
)
BAD_ITEMS = ("illegal_building", "littering", "neighbour_dispute", "rule_breach")
PENALTY_CATEGORIES = {
    "market_regulation": (
        "food_safety",
        "product_quality",
        "unlicensed_business",
        "false_advertising",
    ),
    "urban_management": ("illegal_construction", "environment", "city_appearance"),
}


def moral_reviews(chunk: Chunk) -> Columns:
    ev, rng = chunk.events(), chunk.rng
    latent = 0.9 * ev.propensity + rng.standard_normal(ev.size)
    sd = np.sqrt(1.81)
    rating = np.select(
        [latent < -1.645 * sd, latent < -0.674 * sd, latent < 0.674 * sd], [3, 2, 1], 0
    )
    return {
        "record_id": chunk.record_ids(ev.day),
        "id_number": chunk.ids(ev.person),
        "level": pick(rng, {"grid": 45, "village": 35, "town": 15, "city": 5}, ev.size).arrow(),
        "review_date": col.dates(ev.day),
        "rating": col.take(pa.array(["excellent", "good", "fair", "poor"]), rating),
        "category": pick(rng, dict.fromkeys(CATEGORIES, 1.0), ev.size).arrow(),
    }


def village_rules_points(chunk: Chunk) -> Columns:
    ev, rng = chunk.events(), chunk.rng
    bad = rng.uniform(size=ev.size) < logistic(-2.0 - 1.1 * ev.propensity)
    item = combine(
        bad,
        pick(rng, dict.fromkeys(BAD_ITEMS, 1.0), ev.size),
        pick(rng, dict.fromkeys(GOOD_ITEMS, 1.0), ev.size),
    )
    gain = pick_int(rng, {1: 35, 2: 30, 3: 15, 5: 15, 10: 5}, ev.size)
    loss = pick_int(rng, {1: 35, 2: 30, 5: 20, 10: 10, 20: 5}, ev.size)
    return {
        "record_id": chunk.record_ids(ev.day),
        "id_number": chunk.ids(ev.person),
        "event_date": col.dates(ev.day),
        "item": item.arrow(),
        "points": col.integers(np.where(bad, -loss, gain)),
    }


def administrative_penalties(chunk: Chunk) -> Columns:
    ev, rng = chunk.events(), chunk.rng
    score = -0.5 * ev.propensity + rng.standard_normal(ev.size)
    severity = np.select([score < 0.0, score < 1.55], [0, 1], 2)
    penalty = combine(
        severity == 0,
        pick(rng, {"warning": 60, "fine": 40}, ev.size),
        combine(
            severity == 1,
            pick(rng, {"fine": 75, "confiscation": 20, "suspension": 5}, ev.size),
            pick(
                rng, {"fine": 40, "confiscation": 25, "suspension": 25, "revocation": 10}, ev.size
            ),
        ),
    )
    median = np.array([500, 3_000, 50_000])[severity]
    fine = np.clip(np.round(median * np.exp(rng.standard_normal(ev.size)) * 100), 5_000, 10**9)
    delay = np.where(penalty.is_("warning"), 0, lognormal_int(rng, 15, 1.0, 0, 180, ev.size))
    categories = PENALTY_CATEGORIES[chunk.provider]
    return {
        "record_id": chunk.record_ids(ev.day),
        "id_number": chunk.ids(ev.person),
        "decision_date": col.dates(ev.day),
        "conduct_end_date": col.dates(np.minimum(ev.day + delay, cal.WINDOW_END)),
        "category": pick(rng, dict.fromkeys(categories, 1.0), ev.size).arrow(),
        "penalty": penalty.arrow(),
        "fine_amount": col.decimals(fine.astype(np.int64), 2, null=penalty.is_("warning")),
        "severity": col.take(pa.array(["minor", "general", "serious"]), severity),
    }


def criminal_judgments(chunk: Chunk) -> Columns:
    ev, rng = chunk.events(), chunk.rng
    offence = pick(
        rng,
        {
            "dangerous_driving": 35,
            "theft": 20,
            "fraud": 15,
            "assault": 10,
            "gambling": 10,
            "drug_offence": 5,
            "bribery": 5,
        },
        ev.size,
    )
    driving = offence.is_("dangerous_driving")
    sentence = combine(
        driving,
        pick(rng, {"detention": 75, "probation": 25}, ev.size),
        pick(rng, {"fine_only": 10, "probation": 30, "detention": 25, "fixed_term": 35}, ev.size),
    )
    months = np.select(
        [sentence.is_("fine_only"), sentence.is_("probation"), sentence.is_("detention")],
        [0, rng.integers(6, 37, ev.size), rng.integers(1, 7, ev.size)],
        lognormal_int(rng, 18, 0.9, 6, 360, ev.size),
    )
    length = np.where(months == 0, 30, np.round(months * 30.44)).astype(np.int64)
    return {
        "record_id": chunk.record_ids(ev.day),
        "id_number": chunk.ids(ev.person),
        "judgment_date": col.dates(ev.day),
        "sentence_end_date": col.dates(ev.day + length),
        "offence": offence.arrow(),
        "sentence": sentence.arrow(),
        "sentence_months": col.integers(months),
        "serious": col.booleans(sentence.is_("fixed_term") & (months >= 36)),
    }


def public_security_penalties(chunk: Chunk) -> Columns:
    ev, rng = chunk.events(), chunk.rng
    penalty = pick(rng, {"warning": 20, "fine": 50, "detention": 30}, ev.size)
    detained = penalty.is_("detention")
    days = np.where(detained, pick_int(rng, {3: 25, 5: 30, 7: 20, 10: 15, 15: 10}, ev.size), 0)
    fined = penalty.is_("fine") | (detained & (rng.uniform(size=ev.size) < 0.5))
    fine = pick_int(rng, {200: 30, 500: 35, 1000: 20, 2000: 10, 3000: 5}, ev.size) * 100
    served = ev.day + days + np.where(fined, rng.integers(0, 16, ev.size), 0)
    return {
        "record_id": chunk.record_ids(ev.day),
        "id_number": chunk.ids(ev.person),
        "decision_date": col.dates(ev.day),
        "conduct_end_date": col.dates(np.minimum(served, cal.WINDOW_END)),
        "violation": pick(
            rng,
            {
                "gambling": 30,
                "affray": 25,
                "public_disorder": 15,
                "petty_theft": 15,
                "trespass": 10,
                "false_report": 5,
            },
            ev.size,
        ).arrow(),
        "penalty": penalty.arrow(),
        "fine_amount": col.decimals(fine, 2, null=~fined),
        "detention_days": col.integers(days),
    }


TRAFFIC = {  # violation: (share %, points by weight, fine in CNY by weight)
    "illegal_parking": (45, {0: 80, 3: 20}, {100: 50, 150: 30, 200: 20}),
    "speeding": (30, {3: 50, 6: 40, 12: 10}, {100: 30, 200: 50, 1000: 15, 2000: 5}),
    "red_light": (10, {6: 1}, {200: 1}),
    "no_seatbelt": (7, {1: 1}, {50: 1}),
    "phone_while_driving": (5, {3: 1}, {100: 1}),
    "drunk_driving": (2, {12: 1}, {1000: 50, 2000: 50}),
    "unlicensed_driving": (1, {0: 1}, {200: 40, 1000: 40, 2000: 20}),
}


def traffic_violations(chunk: Chunk) -> Columns:
    ev, rng = chunk.events(), chunk.rng
    kind = pick(rng, {k: v[0] for k, v in TRAFFIC.items()}, ev.size)
    points = np.zeros(ev.size, dtype=np.int64)
    fine = np.zeros(ev.size, dtype=np.int64)
    for name, (_, by_points, by_fine) in TRAFFIC.items():  # seven kinds, not rows
        mask = kind.is_(name)
        points[mask] = pick_int(rng, by_points, int(mask.sum()))
        fine[mask] = pick_int(rng, by_fine, int(mask.sum()))
    recent = ev.day > cal.WINDOW_END - 60
    p_open = np.where(recent, 0.5, logistic(-3.5 - 0.8 * ev.propensity))
    return {
        "record_id": chunk.record_ids(ev.day),
        "id_number": chunk.ids(ev.person),
        "violation_date": col.dates(ev.day),
        "violation": kind.arrow(),
        "points_deducted": col.integers(points),
        "fine_amount": col.decimals(fine * 100, 2),
        "settled": col.booleans(rng.uniform(size=ev.size) >= p_open),
    }
