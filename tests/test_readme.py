"""The README's commands exist: every `dexin …` line names real commands and options."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dexin.cli import app

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _commands() -> list[list[str]]:
    """Each `dexin …` line of a bash block, as words; `dexin g a | b` lists siblings a, b of g."""
    cases = []
    for block in re.findall(r"```bash\n(.*?)```", README, re.S):
        for line in block.splitlines():
            code = line.split("#", 1)[0].strip()
            if not code.startswith("dexin "):
                continue
            first, *siblings = code.removeprefix("dexin ").split(" | ")
            cases.append(first.split())
            group = first.split()[0]
            cases += [[group, *sibling.split()] for sibling in siblings]
    return cases


@pytest.mark.parametrize("words", _commands(), ids=" ".join)
def test_readme_command_exists(words: list[str]) -> None:
    group = words[0]
    path = (
        words[:2] if group in {"vault", "data", "ledger", "model", "audit", "admin"} else words[:1]
    )
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, (path, result.output)
    for option in (w for w in words if w.startswith("--")):
        assert option in result.output, (path, option)


def test_the_two_commands_are_the_makefile_targets() -> None:
    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    assert "make demo" in README and "make test" in README
    assert re.search(r"^demo:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
