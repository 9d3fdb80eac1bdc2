"""Who gets how many rows of an event table, and when.

A person's exposure is the part of the ten-year window in which they were eligible for the
stream (see `EventRate`); their expected row count is ``rows × scale × w / Σw`` with
``w = exposure × exp(beta × propensity)``, so the expected total is exactly the declared
rate, and rows scale linearly with ``scale``. Dates are uniform over the person's exposure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from synthetic import _calendar as cal
from synthetic._rates import EventRate
from synthetic._world import World

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Events:
    """Rows of one chunk: the person (global index) and the date of each event."""

    person: I64
    day: npt.NDArray[np.int32]
    propensity: F64

    @property
    def size(self) -> int:
        return int(self.person.size)


def _window(world: World, rate: EventRate, people: slice) -> tuple[I64, I64]:
    """First eligible day and exposure length (0 when never eligible) of each person."""
    birth = world.birth[people].astype(np.int64)
    start = np.maximum(cal.WINDOW_START, birth + int(rate.min_age * cal.YEAR_DAYS))
    end = np.minimum(cal.WINDOW_END, birth + int((rate.max_age + 1) * cal.YEAR_DAYS) - 1)
    exposure = np.maximum(0, end - start + 1)
    if rate.who == "heads":
        exposure = np.where(world.head[people], exposure, 0)
    elif rate.who == "drivers":
        exposure = np.where(world.driver[people], exposure, 0)
    return start, exposure


def _weights(world: World, rate: EventRate, people: slice) -> F64:
    _, exposure = _window(world, rate, people)
    weights: F64 = exposure * np.exp(rate.beta * world.propensity[people])
    return weights


def _total_weight(world: World, rate: EventRate) -> float:
    key = f"{rate.provider}/{rate.table}"
    if key not in world.cache:
        world.cache[key] = float(_weights(world, rate, slice(None)).sum())
    return world.cache[key]


def sample(world: World, rate: EventRate, lo: int, hi: int, rng: np.random.Generator) -> Events:
    """The events of people ``lo`` ≤ person < ``hi`` for one stream."""
    people = slice(lo, hi)
    start, exposure = _window(world, rate, people)
    total = _total_weight(world, rate)
    mean = rate.rows * world.scale * _weights(world, rate, people) / max(total, 1.0)
    if rate.dispersion is not None:
        mean = mean * rng.gamma(rate.dispersion, 1 / rate.dispersion, size=mean.size)
    counts = rng.poisson(mean)
    local = np.repeat(np.arange(hi - lo), counts)
    day = start[local] + np.floor(rng.uniform(size=local.size) * exposure[local])
    person = local + lo
    return Events(person, day.astype(np.int32), world.propensity[person])
