"""Volunteering and virtue tables: service hours, blood, donations, honours, good deeds."""

from __future__ import annotations

import numpy as np

from synthetic import _columns as col
from synthetic._chunk import Chunk, Columns
from synthetic._random import lognormal_int, pick, pick_int


def volunteer_service(chunk: Chunk) -> Columns:
    ev, rng = chunk.events(), chunk.rng
    tenths = pick_int(rng, {10: 15, 15: 10, 20: 25, 25: 10, 30: 15, 40: 15, 60: 6, 80: 4}, ev.size)
    return {
        "record_id": chunk.record_ids(ev.day),
        "id_number": chunk.ids(ev.person),
        "service_date": col.dates(ev.day),
        "hours": col.decimals(tenths, 1),
        "activity": pick(
            rng,
            {
                "community": 25,
                "elder_care": 20,
                "environment": 15,
                "traffic_guidance": 12,
                "education": 12,
                "culture": 10,
                "disaster_relief": 6,
            },
            ev.size,
        ).arrow(),
    }


def blood_donations(chunk: Chunk) -> Columns:
    ev, rng = chunk.events(), chunk.rng
    kind = pick(rng, {"whole_blood": 85, "platelets": 15}, ev.size)
    whole = pick_int(rng, {200: 30, 300: 30, 400: 40}, ev.size)
    platelets = pick_int(rng, {200: 60, 400: 40}, ev.size)
    return {
        "record_id": chunk.record_ids(ev.day),
        "id_number": chunk.ids(ev.person),
        "donation_date": col.dates(ev.day),
        "donation_kind": kind.arrow(),
        "volume_ml": col.integers(np.where(kind.is_("whole_blood"), whole, platelets)),
    }


def charitable_donations(chunk: Chunk) -> Columns:
    ev, rng = chunk.events(), chunk.rng
    return {
        "record_id": chunk.record_ids(ev.day),
        "id_number": chunk.ids(ev.person),
        "donation_date": col.dates(ev.day),
        "amount": col.decimals(lognormal_int(rng, 20_000, 1.5, 100, 10**10, ev.size), 2),
        "cause": pick(
            rng,
            {
                "poverty_relief": 25,
                "education": 20,
                "disaster_relief": 15,
                "elderly": 15,
                "children": 15,
                "community": 10,
            },
            ev.size,
        ).arrow(),
    }


def honors_awards(chunk: Chunk) -> Columns:
    ev, rng = chunk.events(), chunk.rng
    award = pick(
        rng,
        {
            "civilised_household": 30,
            "most_beautiful_family": 25,
            "good_person": 25,
            "moral_model": 12,
            "model_worker": 8,
        },
        ev.size,
    )
    level = pick(
        rng, {"village": 45, "town": 30, "city": 17, "province": 6, "national": 2}, ev.size
    )
    revoked = rng.uniform(size=ev.size) < 0.01 * np.exp(-ev.propensity)
    return {
        "record_id": chunk.record_ids(ev.day),
        "id_number": chunk.ids(ev.person),
        "award": award.arrow(),
        "level": level.arrow(),
        "award_date": col.dates(ev.day),
        "revoked": col.booleans(revoked),
    }


def good_samaritan_acts(chunk: Chunk) -> Columns:
    ev, rng = chunk.events(), chunk.rng
    act = pick(
        rng, {"rescue": 40, "traffic_aid": 25, "stopping_crime": 20, "disaster_aid": 15}, ev.size
    )
    return {
        "record_id": chunk.record_ids(ev.day),
        "id_number": chunk.ids(ev.person),
        "act_date": col.dates(ev.day),
        "act": act.arrow(),
        "recognition": pick(
            rng, {"town": 50, "city": 35, "province": 12, "national": 3}, ev.size
        ).arrow(),
    }
