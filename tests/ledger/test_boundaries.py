"""Architecture guard: the ledger imports no other Dexin package."""

from __future__ import annotations

import ast
from pathlib import Path

import ledger

FORBIDDEN = {"vault", "audit", "dexin", "credit_model", "query_gateway"}


def _imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_ledger_imports_no_other_dexin_package() -> None:
    package = Path(ledger.__file__).parent
    for path in package.rglob("*.py"):
        assert not (_imported_roots(path) & FORBIDDEN), path


def test_ledger_reads_no_environment_variables() -> None:
    package = Path(ledger.__file__).parent
    for path in package.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "os.environ" not in text and "getenv" not in text, path
