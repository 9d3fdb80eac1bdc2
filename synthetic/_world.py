"""The synthetic world: geography, households, people and their hidden propensity.

`build_world(seed, scale)` is a pure function of its arguments: every worker process builds
the same world and then generates its own chunks of rows from it. Geography (21 towns,
about 300 villages and 2,000 grids) depends on the seed only; people scale with ``scale``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from synthetic import _calendar as cal
from synthetic._ids import affine_numbers, id_numbers, prefixed
from synthetic._loans import LoanPlan, plan_loans
from synthetic._random import stream

RESIDENTS_AT_SCALE_1 = 850_000
TOWNS = 21
HOUSEHOLD_SIZES = {1: 0.17, 2: 0.31, 3: 0.25, 4: 0.15, 5: 0.08, 6: 0.04}
RELATIONS = ("head", "spouse", "child", "parent", "sibling", "grandchild", "relative")
HOUSEHOLD_SHARE = 0.55  # share of propensity variance common to a household

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Geography:
    """Towns → villages → grids, as codes; ``grid_village`` and ``village_town`` link them."""

    village_codes: pa.StringArray
    grid_codes: pa.StringArray
    grid_village: I64
    village_town: I64
    grid_weight: F64


@dataclass(frozen=True)
class World:
    """Everything the table builders draw from; arrays over people are indexed by person."""

    seed: int
    scale: float
    geography: Geography
    household_grid: I64
    household_numbers: pa.StringArray
    household: I64
    relation: I64
    male: Mask
    birth: npt.NDArray[np.int32]
    age: I64
    propensity: F64
    driver: Mask
    employee: Mask
    ids: pa.StringArray
    loans: LoanPlan
    cache: dict[str, float] = field(default_factory=dict, compare=False, repr=False)

    @property
    def people(self) -> int:
        return int(self.household.size)

    @property
    def households(self) -> int:
        return int(self.household_grid.size)

    @property
    def head(self) -> Mask:
        mask: Mask = self.relation == 0
        return mask


def _geography(seed: int) -> Geography:
    rng = stream(seed, "geography")
    villages_per_town = rng.integers(10, 19, size=TOWNS)
    village_town = np.repeat(np.arange(TOWNS), villages_per_town)
    grids_per_village = rng.integers(5, 9, size=village_town.size)
    grid_village = np.repeat(np.arange(village_town.size), grids_per_village)
    v_no = _ordinal_within(village_town) + 1
    g_no = _ordinal_within(grid_village) + 1
    village_codes = _codes(village_town, v_no)
    grid_codes = pa.array(
        [f"{village_codes[v]}G{g:02d}" for v, g in zip(grid_village, g_no, strict=True)]
    )
    urban = np.where(village_town < 6, 2.0, 1.0)  # the six 街道 are denser
    weight = urban[grid_village] * rng.lognormal(0.0, 0.4, size=grid_village.size)
    return Geography(
        pa.array(village_codes), grid_codes, grid_village, village_town, weight / weight.sum()
    )


def _codes(town: I64, village_no: I64) -> list[str]:
    return [f"T{t + 1:02d}V{v:03d}" for t, v in zip(town, village_no, strict=True)]


def _ordinal_within(group: I64) -> I64:
    """0-based position of each element within its run of equal (sorted) group values."""
    starts = np.r_[0, np.flatnonzero(np.diff(group)) + 1]
    ordinal: I64 = np.arange(group.size) - np.repeat(starts, np.diff(np.r_[starts, group.size]))
    return ordinal


def _household_sizes(rng: np.random.Generator, people: int) -> I64:
    sizes = np.array(list(HOUSEHOLD_SIZES))
    p = np.array(list(HOUSEHOLD_SIZES.values()))
    drawn = rng.choice(sizes, size=int(people / 2.5) + 10, p=p / p.sum())
    ends = np.cumsum(drawn)
    count = int(np.searchsorted(ends, people)) + 1
    drawn = drawn[:count].copy()
    drawn[-1] -= int(ends[count - 1]) - people
    return drawn.astype(np.int64)


def _relations(rng: np.random.Generator, slot: I64) -> I64:
    second = rng.choice(7, size=slot.size, p=[0, 0.8, 0.12, 0.05, 0.03, 0, 0])
    later = rng.choice(7, size=slot.size, p=[0, 0, 0.7, 0.15, 0.04, 0.08, 0.03])
    return np.where(slot == 0, 0, np.where(slot == 1, second, later))


def _ages(rng: np.random.Generator, relation: I64, head_age: F64) -> tuple[I64, F64]:
    """Ages by relation to the head; impossible parents and grandchildren become relatives."""
    n = relation.size
    offset = np.select(
        [relation == 0, relation == 1, relation == 2, relation == 3, relation == 5],
        [
            np.zeros(n),
            rng.normal(-2, 3, n),
            -rng.uniform(22, 38, n),
            rng.uniform(22, 34, n),
            -rng.uniform(45, 62, n),
        ],
        rng.normal(0, 8, n),
    )
    age = head_age + offset
    impossible = ((relation == 3) & (age > 100)) | ((relation == 5) & (age < 0))
    relation = np.where(impossible, 6, relation)
    age = np.where(impossible, head_age + rng.normal(0, 5, n), age)
    floor = np.where(relation == 1, 18, 0)
    return relation, np.clip(age, floor, 100)


def _birth_dates(rng: np.random.Generator, age: F64) -> npt.NDArray[np.int32]:
    years = np.floor(age) + rng.uniform(0, 1, age.size)
    return (cal.AS_OF - 1 - np.floor(years * cal.YEAR_DAYS)).astype(np.int32)


def _ymd(days: npt.NDArray[np.int32]) -> I64:
    months = cal.month_index(days)
    day = days - cal.month_start(months) + 1
    return (cal.years_of(days) * 10_000 + (months % 12 + 1) * 100 + day).astype(np.int64)


def _sexes(rng: np.random.Generator, household: I64, relation: I64) -> Mask:
    head_male = rng.uniform(size=int(household.max()) + 1) < 0.72
    male: Mask = np.select(
        [relation == 0, relation == 1],
        [head_male[household], ~head_male[household]],
        rng.uniform(size=relation.size) < 0.5,
    )
    return male


def _propensity(rng: np.random.Generator, household: I64) -> F64:
    shared = rng.standard_normal(int(household.max()) + 1)[household]
    own = rng.standard_normal(household.size)
    latent: F64 = np.sqrt(HOUSEHOLD_SHARE) * shared + np.sqrt(1 - HOUSEHOLD_SHARE) * own
    return latent


def build_world(seed: int, scale: float) -> World:
    """The deterministic world for (seed, scale): about 850,000 × scale residents."""
    rng = stream(seed, "population")
    people = max(1, round(RESIDENTS_AT_SCALE_1 * scale))
    geography = _geography(seed)
    sizes = _household_sizes(rng, people)
    household = np.repeat(np.arange(sizes.size), sizes)
    slot = _ordinal_within(household)
    head_age = np.clip(rng.normal(52, 14, sizes.size), 20, 95)[household]
    relation, age_years = _ages(rng, _relations(rng, slot), head_age)
    birth = _birth_dates(rng, age_years)
    male = _sexes(rng, household, relation)
    age = np.floor(age_years).astype(np.int64)
    propensity = _propensity(rng, household)
    roles = rng.uniform(size=(2, people))
    driver = (age >= 18) & (age <= 75) & (roles[0] < np.where(age < 60, 0.7, 0.35))
    employee = (age >= 18) & (age < 60) & (roles[1] < 0.55)
    grid = rng.choice(geography.grid_weight.size, size=sizes.size, p=geography.grid_weight)
    numbers = affine_numbers(sizes.size, 100_000_000, 900_000_000, int(rng.integers(1 << 30)))
    ids = id_numbers(stream(seed, "id-numbers"), _ymd(birth), male)
    loans = plan_loans(stream(seed, "loans"), relation, age, propensity)
    return World(
        seed,
        scale,
        geography,
        grid,
        prefixed("H", numbers, 9),
        household,
        relation,
        male,
        birth,
        age,
        propensity,
        driver,
        employee,
        ids,
        loans,
    )
