"""One unit of work: the rows of one (provider, table) for one range of people."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from synthetic import _calendar as cal
from synthetic import _columns as col
from synthetic._events import Events, sample
from synthetic._ids import record_ids
from synthetic._random import stream
from synthetic._rates import EventRate, event_rate
from synthetic._world import World

Columns = dict[str, pa.Array]


@dataclass(frozen=True)
class Chunk:
    """People ``lo`` ≤ person < ``hi`` of ``world``; ``rng`` is seeded by (seed, stream, index)."""

    world: World
    provider: str
    table: str
    index: int
    lo: int
    hi: int
    rng: np.random.Generator = field(init=False, compare=False)

    def __post_init__(self) -> None:
        rng = stream(self.world.seed, f"{self.provider}/{self.table}", self.index)
        object.__setattr__(self, "rng", rng)

    @property
    def rate(self) -> EventRate:
        return event_rate(self.provider, self.table)

    def events(self) -> Events:
        """This chunk's events of an event table, drawn with the declared rate."""
        return sample(self.world, self.rate, self.lo, self.hi, self.rng)

    def record_ids(self, days: npt.NDArray[np.int32], prefix: str | None = None) -> pa.Array:
        """Record numbers carrying the year of ``days``, unique within the stream."""
        return record_ids(prefix or self.rate.prefix, cal.years_of(days), self.index)

    def ids(self, person: npt.NDArray[np.int64]) -> pa.Array:
        """The ID numbers of ``person`` (global indices)."""
        return col.take(self.world.ids, person)
