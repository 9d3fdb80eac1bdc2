"""``dexin serve``: the query gateway over the data directory, with uvicorn (uvloop, httptools).

Mount with ``app.command("serve")(dexin.serve_cli.serve)`` or
``app.add_typer(dexin.serve_cli.app, name="serve")``. By default one process: the gateway owns
the vault and the embedded ledger while it runs. ``--worker`` (or ``DEXIN_SERVE_ROLE=worker``)
serves an answer worker beside that owner: it reads the vault snapshot the owner publishes
(``DEXIN_VAULT_SNAPSHOTS=1``), takes no lock, and refuses to start (exit code 2) unless the
control plane and the audit log are PostgreSQL and the ledger is JSON-RPC
(`dexin.app.check_worker`). The gateway (FastAPI, the vault, the ledger) is imported when
the command runs, not when the CLI starts.

Operations (issue 16 §3): logs go to standard error as ``DEXIN_LOG_FORMAT`` says (`dexin.logs`),
and when ``DEXIN_METRICS_PORT`` is set the process's metrics (`governance.Metrics`) are served
to Prometheus at ``/metrics`` on that operator port by a thread of their own, bound to
``DEXIN_METRICS_HOST`` (loopback by default), never on the public app.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dexin.errors import ExitCode, fail, handle_errors
from dexin.settings import Settings

if TYPE_CHECKING:
    from governance import Metrics

app = typer.Typer(help="Serve the query gateway.")


@app.callback(invoke_without_command=True)
@handle_errors
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    log_level: Annotated[str, typer.Option(help="log level (ours and uvicorn's)")] = "warning",
    worker: Annotated[
        bool,
        typer.Option(
            "--worker",
            help="an answer worker beside the vault's owner: reads its published snapshot "
            "(needs PostgreSQL and a JSON-RPC ledger)",
        ),
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="answer worker processes sharing PORT (uvicorn's supervisor restarts one "
            "that dies); more than 1 only with --worker",
        ),
    ] = 1,
) -> None:
    """Serve the gateway on HOST:PORT until interrupted."""
    import uvicorn
    from query_gateway import create_app

    from dexin.app import check_worker
    from dexin.logs import configure
    from governance import Metrics

    settings = Settings.from_env()
    if worker:
        settings = dataclasses.replace(settings, serve_role="worker")
    if settings.serve_role == "worker":
        check_worker(settings)  # WorkerMisconfigured: exit code 2, before anything opens
    if workers > 1 and settings.serve_role != "worker":
        raise fail("--workers N > 1 serves answer workers only: add --worker (the vault's "
                   "owner is one process, `dexin serve` without --workers)", ExitCode.BAD_INPUT)  # fmt: skip
    if workers > 1 and settings.gateway.metrics_port:
        raise fail("DEXIN_METRICS_PORT with --workers N > 1: each process needs its own "
                   "operator port; run one `dexin serve --worker` per metrics port instead, or "
                   "set DEXIN_METRICS_PORT=0", ExitCode.BAD_INPUT)  # fmt: skip
    if settings.gateway.unsafe_dev_identity and not _loopback(host):
        raise fail(
            "DEXIN_UNSAFE_DEV_IDENTITY is set: an ID number alone would sign anyone in as that "
            f"resident. Serve on a loopback address (127.0.0.1) or unset it (host: {host}).",
            ExitCode.BAD_INPUT,
        )
    configure(settings.gateway.log_format, log_level)
    if workers > 1:
        _serve_pool(host, port, workers, log_level)
        return
    metrics = Metrics()
    _serve_metrics(metrics, settings, port)
    uvicorn.run(
        create_app(settings, metrics=metrics),
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        log_level=log_level,
        log_config=None,  # keep the handler `configure` installed
        access_log=False,
        server_header=False,
    )


def _serve_pool(host: str, port: int, workers: int, log_level: str) -> None:
    """``workers`` answer worker processes on one port: uvicorn's multi-process mode (its
    supervisor binds the socket, spawns the processes, pings them and starts a new one in
    place of any that dies). Each builds its gateway with `worker_app` from the environment,
    which the ``--worker`` flag is carried to."""
    import os

    import uvicorn

    os.environ["DEXIN_SERVE_ROLE"] = "worker"  # the spawned processes read the environment
    os.environ["DEXIN_SERVE_LOG_LEVEL"] = log_level
    uvicorn.run(
        "dexin.serve_cli:worker_app",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        log_level=log_level,
        log_config=None,
        access_log=False,
        server_header=False,
    )


def worker_app() -> Any:
    """The application of one process of ``dexin serve --worker --workers N`` (uvicorn calls
    it in each process it spawns): an answer worker built from the environment."""
    import os

    from query_gateway import create_app

    from dexin.logs import configure

    settings = dataclasses.replace(Settings.from_env(), serve_role="worker")
    configure(settings.gateway.log_format, os.environ.get("DEXIN_SERVE_LOG_LEVEL", "warning"))
    return create_app(settings)


def _serve_metrics(metrics: Metrics, settings: Settings, public_port: int) -> None:
    """Start the operator port's /metrics server (a daemon thread), unless it is off."""
    from prometheus_client import start_http_server

    config = settings.gateway
    if not config.metrics_port:
        return
    if config.metrics_port == public_port:
        raise fail("DEXIN_METRICS_PORT must differ from the public --port: metrics are served "
                   "on an operator port only", ExitCode.BAD_INPUT)  # fmt: skip
    try:
        start_http_server(config.metrics_port, config.metrics_host, registry=metrics.registry)
    except OSError as exc:
        raise fail(f"cannot serve metrics on {config.metrics_host}:{config.metrics_port} "
                   f"({exc.strerror}): set DEXIN_METRICS_PORT to a free port, or 0",
                   ExitCode.BAD_INPUT) from None  # fmt: skip


def _loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address or name (nothing else may serve the unsafe
    development identity provider)."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
