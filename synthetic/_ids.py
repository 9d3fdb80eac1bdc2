"""Synthetic identifiers: resident ID numbers, household and loan numbers, record numbers.

Resident ID numbers (GB 11643) use region codes 330290–330299: inside Ningbo's prefix 3302
but assigned to no county in GB/T 2260 (Ningbo's districts and county-level cities use
330201–330283), so a generated number can never be a real person's. Sequence codes are
unique within (region, birth date, sex), so the numbers are unique; the check character is
ISO 7064 MOD 11-2, as in `vault.idnumber.check_char`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

REGION_CODES = tuple(range(330290, 330300))
_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_CHECK = np.array(list("10X98765432"))
_POW10 = 10 ** np.arange(16, -1, -1, dtype=np.int64)
_MAX_GROUP = 499  # odd (men) or even (women) sequence codes 002–999 per region and birth date


def check_chars(first17: npt.NDArray[np.int64]) -> npt.NDArray[np.str_]:
    """Check character of each 17-digit number (given as an integer)."""
    digits = (first17[:, None] // _POW10) % 10
    chars: npt.NDArray[np.str_] = _CHECK[(digits @ _WEIGHTS) % 11]
    return chars


def _rank_within_groups(keys: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """0-based rank of each element among the elements with the same key (stable)."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]
    start_pos = np.maximum.accumulate(np.where(starts, np.arange(keys.size), 0))
    ranks = np.empty(keys.size, dtype=np.int64)
    ranks[order] = np.arange(keys.size) - start_pos
    return ranks


def id_numbers(
    rng: np.random.Generator, birth_ymd: npt.NDArray[np.int64], male: npt.NDArray[np.bool_]
) -> pa.StringArray:
    """Unique, valid 18-character ID numbers for people born on ``birth_ymd`` (YYYYMMDD).

    The 17th digit is odd for men and even for women. Raises ValueError when more than
    499 people share a region, birth date and sex (impossible below scale 10).
    """
    region = rng.choice(np.array(REGION_CODES, dtype=np.int64), size=birth_ymd.size)
    group = (region * 100_000_000 + birth_ymd) * 2 + male
    rank = _rank_within_groups(group)
    if rank.size and rank.max() >= _MAX_GROUP:
        raise ValueError("too many people share a birth date for unique sequence codes")
    salt = int(rng.integers(0, _MAX_GROUP))
    offset = ((group % 1_000_003) * 7919 + salt) % _MAX_GROUP  # the same for a whole group
    half = (offset + rank) % _MAX_GROUP + 1
    first17 = (region * 100_000_000 + birth_ymd) * 1000 + half * 2 + male
    text = pc.utf8_lpad(pa.array(first17).cast(pa.string()), 17, "0")
    return pc.binary_join_element_wise(text, pa.array(check_chars(first17)), "")


def affine_numbers(count: int, low: int, span: int, shift: int) -> npt.NDArray[np.int64]:
    """``count`` distinct numbers in [low, low + span), scattered by an affine bijection."""
    step = 7_777_777  # coprime with 2, 3 and 5, hence with every span used here
    return low + (np.arange(count, dtype=np.int64) * step + shift) % span


def prefixed(prefix: str, numbers: npt.NDArray[np.int64], width: int) -> pa.StringArray:
    """``prefix`` followed by each number zero-padded to ``width`` digits."""
    digits = pc.utf8_lpad(pa.array(numbers, type=pa.int64()).cast(pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def record_ids(prefix: str, years: npt.NDArray[np.int32], chunk: int) -> pa.StringArray:
    """Record numbers ``PREFIX-YYYY-CCCNNNNNNN``: unique per (prefix, chunk, row in chunk)."""
    serial = chunk * 10_000_000 + np.arange(years.size, dtype=np.int64)
    year_text = pa.array(years.astype(np.int64)).cast(pa.string())
    serial_text = pc.utf8_lpad(pa.array(serial).cast(pa.string()), 10, "0")
    return pc.binary_join_element_wise(prefix, year_text, serial_text, "-")
