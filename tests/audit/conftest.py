"""Fixtures for the audit-log tests (builders live in audit_builders.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from audit_builders import World, build_world

from audit.export import export_log
from audit.reader import LogReader


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """Built once per module: BLS cosigning costs about half a second per round."""
    return build_world(tmp_path_factory.mktemp("world"))


@pytest.fixture(scope="module")
def pristine_export(world: World, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "export"
    with LogReader(world.directory) as reader:
        export_log(reader, out)
    return out


@pytest.fixture
def export_dir(pristine_export: Path, tmp_path: Path) -> Path:
    """A fresh copy of the export, free to tamper with."""
    copy = tmp_path / "export"
    shutil.copytree(pristine_export, copy)
    return copy
