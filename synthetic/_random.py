"""Independent, named random streams: one per (seed, purpose, chunk), never shared.

Each stream is seeded from the run's seed and a stable label, so what one table or chunk
draws never depends on what another drew, nor on the order in which workers ran.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc


def stream(seed: int, label: str, *keys: int) -> np.random.Generator:
    """A generator seeded from (seed, label, keys); the same arguments give the same draws."""
    entropy = [seed, zlib.crc32(label.encode("utf-8")), *keys]
    return np.random.default_rng(np.random.SeedSequence(entropy))


def logistic(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The logistic function 1 / (1 + e^−x)."""
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True)
class Choice:
    """Categorical draws: ``codes`` index into ``labels``."""

    labels: tuple[str, ...]
    codes: npt.NDArray[np.int64]

    def is_(self, label: str) -> npt.NDArray[np.bool_]:
        """Mask of the draws equal to ``label`` (KeyError-free: unknown labels match nothing)."""
        if label not in self.labels:
            return np.zeros(self.codes.size, dtype=np.bool_)
        mask: npt.NDArray[np.bool_] = self.codes == self.labels.index(label)
        return mask

    def arrow(self) -> pa.Array:
        """The labels as an Arrow string array."""
        return pc.take(pa.array(self.labels, type=pa.string()), pa.array(self.codes))


def pick(rng: np.random.Generator, weights: Mapping[str, float], size: int) -> Choice:
    """``size`` labels drawn with the given (unnormalised) weights."""
    p = np.array(list(weights.values()), dtype=np.float64)
    return Choice(tuple(weights), rng.choice(p.size, size=size, p=p / p.sum()))


def combine(mask: npt.NDArray[np.bool_], when_true: Choice, when_false: Choice) -> Choice:
    """Element-wise choice between two draws over the union of their labels."""
    labels = tuple(dict.fromkeys(when_true.labels + when_false.labels))
    remap_t = np.array([labels.index(x) for x in when_true.labels], dtype=np.int64)
    remap_f = np.array([labels.index(x) for x in when_false.labels], dtype=np.int64)
    codes = np.where(mask, remap_t[when_true.codes], remap_f[when_false.codes])
    return Choice(labels, codes)


def pick_int(
    rng: np.random.Generator, weights: Mapping[int, float], size: int
) -> npt.NDArray[np.int64]:
    """``size`` integers drawn with the given (unnormalised) weights."""
    values = np.array(list(weights), dtype=np.int64)
    p = np.array(list(weights.values()), dtype=np.float64)
    return values[rng.choice(values.size, size=size, p=p / p.sum())]


def lognormal_int(
    rng: np.random.Generator, median: float, sigma: float, low: int, high: int, size: int
) -> npt.NDArray[np.int64]:
    """Log-normal integers with the given median, clipped to [low, high]."""
    draws = np.round(median * np.exp(sigma * rng.standard_normal(size)))
    return np.clip(draws, low, high).astype(np.int64)
