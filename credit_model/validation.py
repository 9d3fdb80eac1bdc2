"""Validation metrics of a scorecard: discrimination, calibration, stability, fairness.

Pure functions over numpy arrays (higher score = better; ``bad`` is True for a default).
`auc` is the Mann–Whitney probability that a random good outscores a random bad (ties
count half); `ks` the largest gap between the score distributions of bads and goods;
`psi` the population stability index Σ (a − e)·ln(a / e) over bins of proportions;
`wilson` a 95 % Wilson score interval for a proportion.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
PSI_FLOOR = 1e-4  # an empty bin counts as this share, so PSI stays finite


def _average_ranks(values: F64) -> F64:
    """Ranks 1..n, ties sharing their average rank."""
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(values.size, dtype=np.float64)
    sorted_values = values[order]
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], values.size]
    for s, e in zip(starts, ends, strict=True):
        ranks[order[s:e]] = (s + 1 + e) / 2.0
    return ranks


def auc(scores: F64, bad: Bools) -> float:
    """Area under the ROC curve; NaN unless there are goods and bads."""
    n_bad, n_good = int(bad.sum()), int((~bad).sum())
    if n_bad == 0 or n_good == 0:
        return math.nan
    ranks = _average_ranks(scores.astype(np.float64))
    good_rank_sum = float(ranks[~bad].sum())
    return (good_rank_sum - n_good * (n_good + 1) / 2.0) / (n_good * n_bad)


def roc_curve(scores: F64, bad: Bools) -> tuple[F64, F64]:
    """(false-positive rate, true-positive rate) rejecting from the lowest score up:
    a "positive" is a rejected bad."""
    thresholds = np.unique(scores)
    bads, goods = np.sort(scores[bad]), np.sort(scores[~bad])
    tpr = np.searchsorted(bads, thresholds, side="right") / max(bads.size, 1)
    fpr = np.searchsorted(goods, thresholds, side="right") / max(goods.size, 1)
    return np.r_[0.0, fpr].astype(np.float64), np.r_[0.0, tpr].astype(np.float64)


def ks(scores: F64, bad: Bools) -> float:
    """Kolmogorov–Smirnov statistic between bads' and goods' scores; NaN if one is empty."""
    if bad.all() or not bad.any():
        return math.nan
    fpr, tpr = roc_curve(scores, bad)
    return float(np.max(np.abs(tpr - fpr)))


def shares(labels: Sequence[str], bins: Sequence[str]) -> F64:
    """Proportion of ``labels`` in each of ``bins`` (in order)."""
    arr = np.asarray(labels)
    total = max(arr.size, 1)
    return np.array([(arr == b).sum() / total for b in bins], dtype=np.float64)


def psi(expected: F64, actual: F64) -> float:
    """Population stability index of ``actual`` against ``expected`` bin proportions."""
    e = np.maximum(expected, PSI_FLOOR)
    a = np.maximum(actual, PSI_FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def psi_verdict(value: float) -> str:
    """The usual reading: < 0.1 stable, < 0.25 some shift, otherwise a major shift."""
    return "stable" if value < 0.1 else "some shift" if value < 0.25 else "major shift"


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return (math.nan, math.nan)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class BandCalibration:
    band: str
    n: int
    bads: int
    observed: float
    low: float
    high: float
    expected: float


def calibration(
    bands: Sequence[str], bad: Bools, expected: Sequence[tuple[str, float]]
) -> list[BandCalibration]:
    """Observed default rate per band (with a Wilson interval) beside the spec's expectation."""
    arr = np.asarray(bands)
    out = []
    for code, rate in expected:
        mask = arr == code
        n, k = int(mask.sum()), int((bad & mask).sum())
        low, high = wilson(k, n)
        out.append(BandCalibration(code, n, k, k / n if n else math.nan, low, high, rate))
    return out


@dataclass(frozen=True)
class GroupFairness:
    group: str
    n: int
    mean_points: float
    eligible_rate: float
    impact_ratio: float  # eligible rate / the highest group's (the four-fifths rule reads this)
    borrowers: int
    bad_rate: float
    auc: float


def fairness(
    groups: Sequence[str], points: F64, eligible: Bools, outcome: tuple[Sequence[str], F64, Bools]
) -> list[GroupFairness]:
    """Per group: mean points and eligibility (whole scored population) and, among
    back-tested borrowers (``outcome`` = their groups, scores, bad flags), bad rate and AUC."""
    g = np.asarray(groups)
    og, oscore, obad = np.asarray(outcome[0]), outcome[1], outcome[2]
    names = sorted(set(g.tolist()))
    rates = {n: float(eligible[g == n].mean()) if (g == n).any() else 0.0 for n in names}
    best = max(rates.values()) or 1.0
    out = []
    for name in names:
        mask, omask = g == name, og == name
        out.append(GroupFairness(
            name, int(mask.sum()), float(points[mask].mean()), rates[name], rates[name] / best,
            int(omask.sum()), float(obad[omask].mean()) if omask.any() else math.nan,
            auc(oscore[omask], obad[omask]),
        ))  # fmt: skip
    return out


def age_group(age: int) -> str:
    """The age bands of the fairness tables."""
    for upper, label in ((29, "18–29"), (44, "30–44"), (59, "45–59")):
        if age <= upper:
            return label
    return "60+"
