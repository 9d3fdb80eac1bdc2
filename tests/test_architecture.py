"""Cheap guards of the architecture: who may import what (docs/architecture.md).

The picture these tests keep true::

    dexin (CLI, demo) ──▶ query_gateway (FastAPI edge) ──▶ dexin.app (composition root)
         │                        │                               │
         └────────────────────────┴──────────────▶ governance ◀───┘
                                                      │
                              vault ◀── credit_model ◀┤──▶ ledger
                                ▲                     │
                                └──────── audit ◀─────┘
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ["vault", "ledger", "audit", "credit_model", "governance"]
EDGES = ["dexin", "query-gateway/query_gateway"]
LIBRARIES = ["synthetic", "dexin_client"]
PACKAGES = CORE + EDGES + LIBRARIES  # bench/ measures engines by themselves too
SURFACED = {"vault", "audit", "credit_model", "governance"}  # import their top-level names
WEB = {"fastapi", "starlette", "uvicorn"}


def _imports(package: str, *, full: bool = False) -> dict[str, set[str]]:
    """Each file's imported modules (top-level names, or dotted names with ``full``)."""
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names |= {a.name if full else a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module if full else node.module.split(".")[0])
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
        ("vault", {"ledger", "governance", "credit_model"}),  # audit: RFC 6962 roots
        ("ledger", {"vault", "audit", "credit_model", "governance"}),
        ("audit", {"vault", "ledger", "credit_model", "governance"}),
        ("credit_model", {"ledger", "governance", "audit", "duckdb"}),
        ("governance", set()),
    ],
)
def test_core_packages_import_neither_edge(package: str, forbidden: set[str]) -> None:
    edges = {"dexin", "query_gateway", "dexin_client", "synthetic"} | WEB
    for path, names in _imports(package).items():
        assert not names & (forbidden | edges), f"{path} imports {names & (forbidden | edges)}"


def test_the_gateway_imports_only_the_composition_root_of_the_application() -> None:
    for path, names in _imports("query-gateway/query_gateway", full=True).items():
        application = {n for n in names if n == "dexin" or n.startswith("dexin.")}
        assert application <= {"dexin.app"}, f"{path} imports {application}"


def test_the_cli_imports_the_gateway_only_to_serve_it() -> None:
    allowed = {"dexin/serve_cli.py", "dexin/demo.py"}
    for path, names in _imports("dexin").items():
        if "query_gateway" in names:
            assert path in allowed, f"{path} imports the gateway"


def test_the_bank_client_imports_nothing_of_the_server() -> None:
    ours = {"dexin", "query_gateway", "governance", "vault", "ledger", "audit", "credit_model"}
    for path, names in _imports("dexin_client").items():
        assert not names & ours, f"{path} imports {names & ours}"


@pytest.mark.parametrize("package", [*CORE, *EDGES, *LIBRARIES, "bench"])
def test_other_packages_import_a_core_package_by_its_public_names(package: str) -> None:
    own = package.split("/")[-1]
    for path, names in _imports(package, full=True).items():
        for name in names:
            top, _, rest = name.partition(".")
            assert not (top in SURFACED and top != own and rest), f"{path} imports {name}"


def test_every_public_name_resolves() -> None:
    import importlib

    for package in SURFACED:
        module = importlib.import_module(package)
        for name in module.__all__:
            assert getattr(module, name) is not None, f"{package}.{name}"


def test_there_is_one_audit_entry_type() -> None:
    defined = [
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "class AuditEntry" in path.read_text(encoding="utf-8")
    ]
    assert defined == ["audit/entry.py"]


def test_no_vault_connection_outside_the_vault() -> None:
    for package in PACKAGES:
        if package == "vault":
            continue
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert ".con." not in text and ".con)" not in text, f"{path} reaches into vault.con"
