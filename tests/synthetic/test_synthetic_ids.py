"""ID numbers: check characters agree with the vault's, numbers are unique, regions unassigned."""

from __future__ import annotations

import numpy as np

from synthetic._ids import REGION_CODES, affine_numbers, check_chars, id_numbers
from synthetic._world import build_world
from vault.idnumber import check_char, problem


def test_check_characters_agree_with_the_reference() -> None:
    rng = np.random.default_rng(1)
    numbers = rng.integers(10**16, 10**17, size=2_000)
    fast = check_chars(numbers)
    assert [str(c) for c in fast] == [check_char(str(n)) for n in numbers]


def test_numbers_are_unique_even_when_many_share_a_birth_date() -> None:
    birth = np.full(3_000, 19_800_101, dtype=np.int64)
    male = np.arange(3_000) % 2 == 0
    ids = id_numbers(np.random.default_rng(2), birth, male).to_pylist()
    assert len(set(ids)) == len(ids)
    assert all(problem(i) is None for i in ids)
    assert all(int(i[16]) % 2 == int(m) for i, m in zip(ids, male, strict=True))


def test_regions_are_unassigned_ningbo_codes() -> None:
    assert all(330290 <= code <= 330299 for code in REGION_CODES)
    ids = build_world(5, 0.002).ids.to_pylist()
    assert {int(i[:6]) for i in ids} <= set(REGION_CODES)
    assert len(set(ids)) == len(ids)


def test_affine_numbers_are_distinct_and_in_range() -> None:
    numbers = affine_numbers(100_000, 100_000_000, 900_000_000, 12_345)
    assert np.unique(numbers).size == numbers.size
    assert numbers.min() >= 100_000_000 and numbers.max() < 10**9
