"""The public surface: arguments refused, the CLI, the rates documentation."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from synthetic import generate, rates_markdown
from synthetic.cli import app
from synthetic.errors import InvalidFormatError, InvalidScaleError, OutputNotEmptyError
from vault.registry import Registry


@pytest.mark.parametrize("scale", [0.0, -1.0, 10.5])
def test_scale_outside_the_range_is_refused(tmp_path: Path, scale: float) -> None:
    with pytest.raises(InvalidScaleError):
        generate(tmp_path, scale, 1, "csv")


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidFormatError):
        generate(tmp_path, 0.001, 1, "xml")  # type: ignore[arg-type]


def test_a_non_empty_directory_is_refused_unless_overwriting(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(OutputNotEmptyError):
        generate(tmp_path, 0.001, 1, "csv")
    generate(tmp_path, 0.001, 1, "csv", overwrite=True)
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_progress_is_reported_up_to_the_total(tmp_path: Path) -> None:
    seen: list[tuple[int, int, str]] = []
    generate(tmp_path, 0.001, 1, "csv", lambda d, t, k: seen.append((d, t, k)))
    assert seen[-1][0] == seen[-1][1] == len(seen) == 18


def test_cli_generates_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["generate", "--scale", "0.001", "--seed", "3", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (out / "_truth" / "summary.json").exists()
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 2
    assert "not empty" in again.output


def test_cli_refuses_an_unknown_format(tmp_path: Path) -> None:
    args = ["generate", "--scale", "0.001", "--out", str(tmp_path / "o"), "--format", "xml"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert not (tmp_path / "o").exists()


def test_rates_documentation_covers_every_provider_and_table(registry: Registry) -> None:
    text = rates_markdown()
    for table in registry.tables:
        for provider in table.providers:
            assert f"| `{table.name}` | {provider} |" in text
    assert "330290–330299" in text
