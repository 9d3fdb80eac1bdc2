"""``dexin admin …``: clients, development subject tokens and the response-signing key.

Mount with ``app.add_typer(dexin.admin_cli.app, name="admin")``. These commands never open
the vault or the ledger, so they work while ``dexin serve`` runs on the same data directory.
Exit codes (`dexin.errors`): 2 refused input; 3 no usable master key; 4 no vault (keys) in
this data directory. Each command imports the control plane (SQLAlchemy) when it runs.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from dexin.errors import ExitCode, fail, handle_errors
from dexin.settings import Settings

app = typer.Typer(no_args_is_help=True, help="Gateway administration (control plane only).")


@app.command("create-client")
@handle_errors
def create_client_command(
    role: Annotated[str, typer.Option(help="bank, provider, officer, auditor or admin")],
    name: Annotated[str, typer.Option(help="display name; for a provider, its registry id")],
    json_out: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Register an OAuth client and print its client_id and client_secret (shown once)."""
    from dexin.admin import create_client
    from dexin.app import control_plane
    from governance import CLIENT_ROLES, Role

    if role not in {r.value for r in CLIENT_ROLES}:
        raise fail(
            "role must be one of bank, provider, officer, auditor, admin", ExitCode.BAD_INPUT
        )
    made = create_client(control_plane(Settings.from_env()), Role(role), name)
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
@handle_errors
def subject_token_command(
    id_number: Annotated[str, typer.Option(help="the subject's resident ID number")],
    json_out: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Print a short-lived subject token (the embedded development identity provider)."""
    from dexin.admin import subject_token

    settings = Settings.from_env()
    token = subject_token(settings, id_number, settings.gateway.token_ttl)
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
@handle_errors
def rotate_signing_key_command(
    json_out: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Sign answers with a new key from now on (a running gateway follows within a second);
    the old keys stay published at GET /v1/keys so kept answers still verify."""
    from dexin.admin import rotate_signing_key

    made = rotate_signing_key(Settings.from_env())  # a damaged signing-keys.json: ValueError
    if json_out:
        sys.stdout.write(json.dumps(made) + "\n")
    else:
        sys.stdout.write(f"new signing key kid {made['kid']} (old keys stay published)\n")


@app.command("list-clients")
@handle_errors
def list_clients_command() -> None:
    """Registered clients as JSON (never their secrets)."""
    from dexin.app import control_plane

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
@handle_errors
def disable_client_command(client_id: Annotated[str, typer.Option()]) -> None:
    """Disable a client: its tokens stop working within a second, new ones are refused."""
    from dexin.app import control_plane

    if not control_plane(Settings.from_env()).disable_client(client_id):
        raise fail("no such client", ExitCode.BAD_INPUT)


@app.command("unlock-officer")
@handle_errors
def unlock_officer_command(
    name: Annotated[str, typer.Argument(help="the console account's user name")],
) -> None:
    """Unlock a console account (officer or auditor) locked after failed sign-ins. The gateway
    applies the unlock at the account's next sign-in, after appending its audit entry (this
    command cannot write the audit log while the gateway holds it)."""
    from governance import request_unlock

    if not request_unlock(Settings.from_env().console_accounts, name):
        raise fail("no such console account", ExitCode.BAD_INPUT)
    sys.stdout.write("unlock requested: it takes effect, audited, at the account's next sign-in\n")


@app.command("invite-officer")
@handle_errors
def invite_officer_command(
    name: Annotated[str, typer.Argument(help="a new officer's name, or an officer's client id")],
    gateway: Annotated[
        str, typer.Option(help="the gateway's URL as the officer opens it (the passkey's origin)")
    ] = "http://localhost:8000",
    json_out: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Invite an officer to enrol a passkey (or an officer-held key): a one-time link, valid
    for 3 days. NAME that is an existing officer's client id invites that officer to add a key;
    any other NAME registers a new officer client first (its secret is shown once)."""
    from dexin.app import control_plane
    from governance import Role, create_invite

    control = control_plane(Settings.from_env())
    existing = control.active_client(name)
    if existing is not None and existing.role != Role.OFFICER.value:
        raise fail("that client is not an officer", ExitCode.BAD_INPUT)
    made = None if existing is not None else control.create_client(Role.OFFICER, name)
    officer = name if made is None else made.client_id
    token = create_invite(control.sessions, officer, "admin-cli")
    doc = {"officer": officer, "enrol_url": f"{gateway.rstrip('/')}/console/enrol#{token}"}
    if made is not None:
        doc["client_secret"] = made.client_secret
    if json_out:
        sys.stdout.write(json.dumps(doc) + "\n")
        return
    sys.stdout.write(f"officer:     {officer}\nenrol link:  {doc['enrol_url']}\n"
                     "(valid once, for 3 days; send it to the officer alone)\n")  # fmt: skip
    if made is not None:
        sys.stdout.write(f"client_secret: {made.client_secret} (shown only now)\n")
