"""`dexin serve`'s operator side (issue 16 §3): the metrics port and the log format are
settings like any other, refused when malformed; /metrics is served on its own port, never
the public one, and a port that cannot be had is a clear refusal."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import typer

from dexin.errors import ExitCode
from dexin.serve_cli import _serve_metrics
from dexin.settings import Settings
from governance import Metrics


def settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"DEXIN_HOME": str(tmp_path), **env})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_metrics_are_off_and_logs_text_unless_asked(tmp_path: Path) -> None:
    gateway = settings(tmp_path).gateway
    assert (gateway.metrics_port, gateway.metrics_host, gateway.log_format) == (
        0,
        "127.0.0.1",
        "text",
    )
    asked = settings(tmp_path, DEXIN_METRICS_PORT="9100", DEXIN_METRICS_HOST="0.0.0.0",
                     DEXIN_LOG_FORMAT="json").gateway  # fmt: skip
    assert (asked.metrics_port, asked.metrics_host, asked.log_format) == (9100, "0.0.0.0", "json")


@pytest.mark.parametrize(
    "env",
    [
        {"DEXIN_METRICS_PORT": "70000"},
        {"DEXIN_METRICS_PORT": "-1"},
        {"DEXIN_METRICS_PORT": "ninety"},
        {"DEXIN_LOG_FORMAT": "xml"},
    ],
)
def test_malformed_operator_settings_are_refused(tmp_path: Path, env: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        settings(tmp_path, **env)


def test_metrics_are_served_on_the_operator_port(tmp_path: Path) -> None:
    metrics, port = Metrics(), free_port()
    metrics.answered({"computation": "morality_credit_score"}, True, 0.004)
    _serve_metrics(metrics, settings(tmp_path, DEXIN_METRICS_PORT=str(port)), public_port=8000)
    r = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert r.status_code == 200
    assert (
        'dexin_answers_total{computation="morality_credit_score",decision="allow",reason="none"} 1.0'
        in r.text
    )


def test_the_metrics_port_is_never_the_public_one_and_a_taken_port_is_refused(
    tmp_path: Path,
) -> None:
    with pytest.raises(typer.Exit) as same:
        _serve_metrics(Metrics(), settings(tmp_path, DEXIN_METRICS_PORT="8000"), public_port=8000)
    assert same.value.exit_code == ExitCode.BAD_INPUT
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(typer.Exit) as busy:
            _serve_metrics(Metrics(), settings(tmp_path, DEXIN_METRICS_PORT=str(port)), 8000)
    assert busy.value.exit_code == ExitCode.BAD_INPUT


def _serve(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "dexin"
    return subprocess.run([str(exe), "serve", *args], env=os.environ | {"DEXIN_HOME": str(tmp_path), **env},
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_several_processes_serve_answer_workers_only(tmp_path: Path) -> None:
    """``--workers N > 1`` is uvicorn's multi-process mode for answer workers; the vault's
    owner is one process, so asking for several owners is refused before anything opens."""
    run = _serve(tmp_path, "--workers", "2", "--port", "0")
    assert run.returncode == ExitCode.BAD_INPUT, run.stderr
    assert "--workers N > 1 serves answer workers only: add --worker" in run.stderr
    assert not (tmp_path / "vault").exists()  # nothing was opened or created


def test_several_workers_with_one_metrics_port_are_refused(tmp_path: Path) -> None:
    shared = {"DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/test",
              "DEXIN_AUDIT_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/test",
              "DEXIN_LEDGER": "jsonrpc", "DEXIN_LEDGER_RPC_URL": "http://127.0.0.1:1",
              "DEXIN_METRICS_PORT": str(free_port())}  # fmt: skip
    run = _serve(tmp_path, "--worker", "--workers", "2", "--port", "0", **shared)
    assert run.returncode == ExitCode.BAD_INPUT, run.stderr
    assert "DEXIN_METRICS_PORT with --workers N > 1" in run.stderr
