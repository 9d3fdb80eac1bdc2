"""Cheap guards of the architecture: who may import what (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["vault", "ledger", "audit", "credit_model", "dexin", "query-gateway/query_gateway"]


def _imports(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize(
    ("module", "owner"),
    [
        ("duckdb", "vault"),
        ("duckdb_extension_httpfs", "vault"),
        ("web3", "ledger"),
        ("eth_tester", "ledger"),
    ],
)
def test_an_engine_is_imported_only_by_its_package(module: str, owner: str) -> None:
    for package in PACKAGES:
        if package == owner:
            continue
        for path, names in _imports(package).items():
            assert module not in names, f"{path} imports {module}; only {owner}/ may"


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("vault", {"ledger", "dexin", "query_gateway", "fastapi", "credit_model"}),
        ("ledger", {"vault", "dexin", "query_gateway", "fastapi", "audit", "credit_model"}),
        ("audit", {"vault", "dexin", "query_gateway", "fastapi", "ledger"}),
        ("credit_model", {"dexin", "query_gateway", "fastapi", "ledger", "duckdb"}),
    ],
)
def test_core_packages_do_not_import_the_application(package: str, forbidden: set[str]) -> None:
    for path, names in _imports(package).items():
        assert not names & forbidden, f"{path} imports {names & forbidden}"
