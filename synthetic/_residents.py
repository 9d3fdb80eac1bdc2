"""The residents table: one row per person, in household order."""

from __future__ import annotations

import datetime as dt

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from synthetic import _calendar as cal
from synthetic import _columns as col
from synthetic._chunk import Chunk, Columns
from synthetic._world import RELATIONS, TOWNS

_SYSTEM_START = cal.day_number(dt.date(1985, 1, 1))  # the household register goes digital


def _registered_on(chunk: Chunk) -> npt.NDArray[np.int32]:
    """Registered at birth (70%) or on moving in, between birth (or 1985) and the window's end."""
    birth = chunk.world.birth[chunk.lo : chunk.hi].astype(np.int64)
    earliest = np.maximum(birth, _SYSTEM_START)
    moved = earliest + np.floor(chunk.rng.uniform(size=birth.size) * (cal.WINDOW_END - earliest))
    at_birth = (chunk.rng.uniform(size=birth.size) < 0.7) & (birth >= _SYSTEM_START)
    return np.where(at_birth, birth, moved).astype(np.int32)


def residents(chunk: Chunk) -> Columns:
    world, people = chunk.world, np.arange(chunk.lo, chunk.hi)
    household = world.household[people]
    grid = world.household_grid[household]
    village = world.geography.grid_village[grid]
    town = world.geography.village_town[village]
    return {
        "id_number": chunk.ids(people),
        "household_id": col.take(world.household_numbers, household),
        "relation": col.take(pa.array(RELATIONS), world.relation[people]),
        "birth_year": col.integers(cal.years_of(world.birth[people])),
        "sex": col.take(pa.array(["F", "M"]), world.male[people].astype(np.int64)),
        "town_code": col.take(pa.array([f"T{t:02d}" for t in range(1, TOWNS + 1)]), town),
        "village_code": col.take(world.geography.village_codes, village),
        "grid_code": col.take(world.geography.grid_codes, grid),
        "registered_on": col.dates(_registered_on(chunk)),
    }
