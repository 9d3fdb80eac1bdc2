"""``dexin admin …``: clients, development subject tokens and the response-signing key.

Mount with ``app.add_typer(dexin.admin_cli.app, name="admin")``. These commands never open
the vault or the ledger, so they work while ``dexin serve`` runs on the same data directory.
Exit codes: 0 success; 2 refused input; 4 no vault (keys) in this data directory.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from dexin.admin import (
    AdminError,
    create_client,
    rotate_signing_key,
    subject_token,
)
from dexin.app import control_plane
from dexin.settings import Settings
from governance import CLIENT_ROLES, Role, request_unlock
from vault import VaultError

app = typer.Typer(no_args_is_help=True, help="Gateway administration (control plane only).")


def _fail(message: str, code: int) -> typer.Exit:
    sys.stderr.write(f"error: {message}\n")
    return typer.Exit(code)


@app.command("create-client")
def create_client_command(
    role: Annotated[str, typer.Option(help="bank, provider, officer, auditor or admin")],
    name: Annotated[str, typer.Option(help="display name; for a provider, its registry id")],
    json_out: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Register an OAuth client and print its client_id and client_secret (shown once)."""
    if role not in {r.value for r in CLIENT_ROLES}:
        raise _fail("role must be one of bank, provider, officer, auditor, admin", 2)
    settings = Settings.from_env()
    try:
        made = create_client(control_plane(settings), Role(role), name)
    except AdminError as exc:
        raise _fail(str(exc), 2) from None
    doc = {
        "client_id": made.client_id,
        "client_secret": made.client_secret,
        "role": made.role.value,
        "name": made.name,
    }
    if json_out:
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(
            f"client_id:     {made.client_id}\nclient_secret: {made.client_secret}\n"
            "(the secret is shown only now; only its hash is stored)\n"
        )


@app.command("subject-token")
def subject_token_command(
    id_number: Annotated[str, typer.Option(help="the subject's resident ID number")],
    json_out: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Print a short-lived subject token (the embedded development identity provider)."""
    settings = Settings.from_env()
    try:
        token = subject_token(settings, id_number, settings.gateway.token_ttl)
    except AdminError as exc:
        raise _fail(str(exc), 2) from None
    except VaultError as exc:
        raise _fail(str(exc), 4) from None
    if json_out:
        doc = {
            "access_token": token.access_token,
            "token_type": "Bearer",
            "expires_in": token.expires_in,
        }
        sys.stdout.write(json.dumps(doc) + "\n")
    else:
        sys.stdout.write(token.access_token + "\n")


@app.command("rotate-signing-key")
def rotate_signing_key_command(
    json_out: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Sign answers with a new key from now on (a running gateway follows within a second);
    the old keys stay published at GET /v1/keys so kept answers still verify."""
    try:
        made = rotate_signing_key(Settings.from_env())
    except VaultError as exc:
        raise _fail(str(exc), 4) from None
    except ValueError as exc:  # a damaged signing-keys.json: refuse, name the file
        raise _fail(str(exc), 2) from None
    if json_out:
        sys.stdout.write(json.dumps(made) + "\n")
    else:
        sys.stdout.write(f"new signing key kid {made['kid']} (old keys stay published)\n")


@app.command("list-clients")
def list_clients_command() -> None:
    """Registered clients as JSON (never their secrets)."""
    control = control_plane(Settings.from_env())
    rows = [
        {
            "client_id": c.client_id,
            "name": c.name,
            "role": c.role,
            "disabled": c.disabled_at is not None,
        }
        for c in control.clients()
    ]
    sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")


@app.command("disable-client")
def disable_client_command(client_id: Annotated[str, typer.Option()]) -> None:
    """Disable a client: its tokens stop working within a second, new ones are refused."""
    if not control_plane(Settings.from_env()).disable_client(client_id):
        raise _fail("no such client", 2)


@app.command("unlock-officer")
def unlock_officer_command(
    name: Annotated[str, typer.Argument(help="the console account's user name")],
) -> None:
    """Unlock a console account (officer or auditor) locked after failed sign-ins. The gateway
    applies the unlock at the account's next sign-in, after appending its audit entry (this
    command cannot write the audit log while the gateway holds it)."""
    if not request_unlock(Settings.from_env().console_accounts, name):
        raise _fail("no such console account", 2)
    sys.stdout.write("unlock requested: it takes effect, audited, at the account's next sign-in\n")
