"""Same seed and scale → byte-identical files; another seed → different files."""

from __future__ import annotations

import hashlib
from pathlib import Path

from synthetic import GenerationSummary, generate


def digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_and_scale_give_byte_identical_files(
    tiny_csv: GenerationSummary, tmp_path: Path
) -> None:
    again = generate(tmp_path / "again", 0.001, 7, "csv")
    assert digests(again.out_dir) == digests(tiny_csv.out_dir)


def test_a_pool_of_two_workers_writes_the_same_bytes(
    tiny_csv: GenerationSummary, tmp_path: Path
) -> None:
    pooled = generate(tmp_path / "pooled", 0.001, 7, "csv", workers=2)
    assert digests(pooled.out_dir) == digests(tiny_csv.out_dir)


def test_parquet_is_deterministic_too(tiny_parquet: GenerationSummary, tmp_path: Path) -> None:
    again = generate(tmp_path / "again", 0.001, 7, "parquet")
    assert digests(again.out_dir) == digests(tiny_parquet.out_dir)


def test_another_seed_gives_other_rows(tiny_csv: GenerationSummary, tmp_path: Path) -> None:
    other = digests(generate(tmp_path / "other", 0.001, 8, "csv").out_dir)
    same = [name for name, digest in digests(tiny_csv.out_dir).items() if other[name] == digest]
    assert same == []


def test_no_partial_files_are_left(tiny_csv: GenerationSummary) -> None:
    assert not [p for p in tiny_csv.out_dir.rglob("*") if p.name.endswith(".partial")]
