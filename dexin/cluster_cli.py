"""``dexin cluster up``: the consortium's answer path on one machine (`dexin.cluster`).

Mount with ``app.add_typer(dexin.cluster_cli.app, name="cluster")``. Imports the cluster (and
through it the demo, the ledger, the gateway's client) only when the command runs.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from dexin.errors import handle_errors

app = typer.Typer(help="Run the consortium's topology on one machine, without containers.",
                  no_args_is_help=True)  # fmt: skip

DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/test"


@app.command("up")
@handle_errors
def up(
    database_url: Annotated[
        str,
        typer.Option(
            envvar="DEXIN_CLUSTER_DATABASE_URL",
            help="the PostgreSQL server the control plane, the audit log and the workers' "
            "shared state go to",
        ),
    ] = DEFAULT_DATABASE,
    schema: Annotated[str, typer.Option(help="the schema created there for the cluster")] = (
        "dexin_cluster"
    ),
    workers: Annotated[int, typer.Option(min=1, max=64, help="answer worker processes")] = 3,
    port: Annotated[int, typer.Option(min=1, max=65535, help="the answer workers' port")] = 8100,
    owner_port: Annotated[
        int, typer.Option(min=1, max=65535, help="the vault owner's port (contributions)")
    ] = 8101,
    ledger_port: Annotated[int, typer.Option(min=1, max=65535, help="anvil's port")] = 8545,
    scale: Annotated[float, typer.Option(help="size of the synthetic Yuyao built first")] = 0.01,
    seed: Annotated[int, typer.Option()] = 1,
) -> None:
    """Start anvil, the vault's owner, WORKERS answer workers on one port, a witness and the
    residents' identity provider over $DEXIN_HOME (default ./.dexin-cluster; built the first
    time as `make demo` builds it), and keep them running until Ctrl-C."""
    from dexin.cluster import Cluster, ClusterConfig

    home = Path(os.environ.get("DEXIN_HOME") or Path.cwd() / ".dexin-cluster").absolute()
    config = ClusterConfig(home=home, database_url=database_url, schema=schema, workers=workers,
                           port=port, owner_port=owner_port, ledger_port=ledger_port,
                           scale=scale, seed=seed)  # fmt: skip
    console = Console()
    stopped = False

    def _stop(signum: int, frame: object) -> None:
        nonlocal stopped
        stopped = True

    with Cluster(config, console) as cluster:
        running = cluster.write_running()
        console.print(f"the cluster runs (where each part listens: {running}); Ctrl-C stops it")
        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
        while not stopped:
            signal.pause()
        console.print("stopping: the witness, the workers, the owner, the identity provider, "
                      "the ledger")  # fmt: skip
