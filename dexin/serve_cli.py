"""``dexin serve``: the query gateway over the data directory, with uvicorn (uvloop, httptools).

Mount with ``app.command("serve")(dexin.serve_cli.serve)`` or
``app.add_typer(dexin.serve_cli.app, name="serve")``. One process: the gateway owns the vault
and the embedded ledger while it runs (several workers would each need them). The gateway
(FastAPI, the vault, the ledger) is imported when the command runs, not when the CLI starts.
"""

from __future__ import annotations

from typing import Annotated

import typer

from dexin.errors import ExitCode, fail, handle_errors
from dexin.settings import Settings

app = typer.Typer(help="Serve the query gateway.")


@app.callback(invoke_without_command=True)
@handle_errors
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "warning",
) -> None:
    """Serve the gateway on HOST:PORT until interrupted."""
    import uvicorn
    from query_gateway import create_app

    settings = Settings.from_env()
    if settings.gateway.unsafe_dev_identity and not _loopback(host):
        raise fail(
            "DEXIN_UNSAFE_DEV_IDENTITY is set: an ID number alone would sign anyone in as that "
            f"resident. Serve on a loopback address (127.0.0.1) or unset it (host: {host}).",
            ExitCode.BAD_INPUT,
        )
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        log_level=log_level,
        access_log=False,
        server_header=False,
    )


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
