"""The generator's fixed calendar: dates are int32 day numbers since 1970-01-01.

Nothing here reads the clock: the synthetic world is observed "as of" `AS_OF`, and every
event falls in the ten-year window `WINDOW_START`..`WINDOW_END` (inclusive), so output
depends only on the seed and the scale.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import numpy.typing as npt

Days = npt.NDArray[np.int32]

_EPOCH = dt.date(1970, 1, 1)
YEAR_DAYS = 365.2425


def day_number(date: dt.date) -> int:
    """Days since 1970-01-01 (the encoding of Arrow's date32)."""
    return (date - _EPOCH).days


AS_OF_DATE = dt.date(2026, 11, 1)
AS_OF = day_number(AS_OF_DATE)
WINDOW_START = day_number(dt.date(2016, 11, 1))
WINDOW_END = day_number(dt.date(2026, 10, 31))
RETENTION_CUTOFF = day_number(dt.date(2021, 11, 1))


def years_of(days: npt.NDArray[np.integer]) -> npt.NDArray[np.int32]:
    """Calendar year of each day number."""
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int32) + 1970


def month_index(days: npt.NDArray[np.integer]) -> npt.NDArray[np.int32]:
    """Months since 1970-01 of each day number."""
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int32)


def month_start(months: npt.NDArray[np.integer]) -> Days:
    """Day number of the first day of each month index (months since 1970-01)."""
    return months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int32)


def month_end(months: npt.NDArray[np.integer]) -> Days:
    """Day number of the last day of each month index."""
    return month_start(months + 1) - 1


def add_months(days: npt.NDArray[np.integer], months: npt.NDArray[np.integer]) -> Days:
    """Same day of month ``months`` later, clamped to the month's end (e.g. Jan 31 + 1 → Feb 28)."""
    start = month_index(days)
    offset = days - month_start(start)
    target = start + months
    return np.minimum(month_start(target) + offset, month_end(target)).astype(np.int32)


def year_start(years: npt.NDArray[np.integer]) -> Days:
    """Day number of 1 January of each year."""
    return (years - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int32)
