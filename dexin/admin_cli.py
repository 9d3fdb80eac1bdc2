"""``dexin admin …``: clients and their keys, development subject tokens, the signing key.

Mount with ``app.add_typer(dexin.admin_cli.app, name="admin")``. These commands never open
the vault or the ledger, so they work while ``dexin serve`` runs on the same data directory.
Exit codes (`dexin.errors`): 2 refused input; 3 no usable master key; 4 no vault (keys) in
this data directory. Each command imports the control plane (SQLAlchemy) when it runs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from dexin.errors import ExitCode, fail, handle_errors
from dexin.settings import Settings

app = typer.Typer(no_args_is_help=True, help="Gateway administration (control plane only).")


@app.command("create-client")
@handle_errors
def create_client_command(
    role: Annotated[str, typer.Option(help="bank, provider, officer, auditor or admin")],
    name: Annotated[str, typer.Option(help="display name; for a provider, its registry id")],
    jwks: Annotated[
        Path | None, typer.Option(help="a bank's or provider's public keys (JWKS file)")
    ] = None,
    generate_key: Annotated[
        Path | None,
        typer.Option(
            help="(demo) generate the client's key pair: the private key goes to "
            "DIR/<client_id>.key.json (0600), only its public half is registered"
        ),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Register an OAuth client. A bank or provider registers its public key (--jwks FILE,
    or --generate-key DIR): it gets no secret. Other roles get a client_secret (shown once)."""
    from dexin.admin import AdminError, create_client, create_keyed_client, read_jwks
    from dexin.app import control_plane
    from governance import CLIENT_ROLES, Role

    if role not in {r.value for r in CLIENT_ROLES}:
        raise fail(
            "role must be one of bank, provider, officer, auditor, admin", ExitCode.BAD_INPUT
        )
    if jwks is not None and generate_key is not None:
        raise fail("give --jwks or --generate-key, not both", ExitCode.BAD_INPUT)
    control = control_plane(Settings.from_env())
    key_file = None
    try:
        if generate_key is not None:
            made, key_file = create_keyed_client(control, Role(role), name, generate_key)
        else:
            keys = read_jwks(jwks) if jwks is not None else []
            made = create_client(control, Role(role), name, keys)
    except AdminError as exc:
        raise fail(str(exc), ExitCode.BAD_INPUT) from None
    kids = [k.kid for k in control.keys.keys_at(made.client_id)]
    _print_client(made, kids, key_file, json_out)


def _print_client(made: Any, kids: list[str], key_file: Path | None, json_out: bool) -> None:
    doc: dict[str, Any] = {"client_id": made.client_id, "role": made.role.value,
                           "name": made.name}  # fmt: skip
    if made.client_secret is not None:
        doc["client_secret"] = made.client_secret
    if kids:
        doc["keys"] = kids
    if key_file is not None:
        doc["key_file"] = str(key_file)
    if json_out:
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
        return
    sys.stdout.write(f"client_id:     {made.client_id}\n")
    if made.client_secret is not None:
        sys.stdout.write(f"client_secret: {made.client_secret}\n"
                         "(the secret is shown only now; only its hash is stored)\n")  # fmt: skip
    for kid in kids:
        sys.stdout.write(f"key:           {kid} (public half registered)\n")
    if key_file is not None:
        sys.stdout.write(f"private key:   {key_file} (0600: give it to the client alone)\n")


@app.command("add-client-key")
@handle_errors
def add_client_key_command(
    client_id: Annotated[str, typer.Option(help="the bank's or provider's client id")],
    jwks: Annotated[Path, typer.Option(help="the new public key(s), a JWKS file")],
) -> None:
    """Register another public key for a client (a rotation: at most two keys are active at
    once; retire the old one with retire-client-key once the client uses the new one)."""
    from dexin.admin import AdminError, read_jwks
    from dexin.app import control_plane
    from governance import Conflict, NotFound

    try:
        keys = read_jwks(jwks)
        control_plane(Settings.from_env()).keys.add(client_id, keys)
    except AdminError as exc:
        raise fail(str(exc), ExitCode.BAD_INPUT) from None
    except (Conflict, NotFound) as exc:
        raise fail(f"refused: {exc.reason}", ExitCode.BAD_INPUT) from None
    sys.stdout.write("".join(f"key {k.kid} registered\n" for k in keys))


@app.command("retire-client-key")
@handle_errors
def retire_client_key_command(
    client_id: Annotated[str, typer.Option(help="the client id")],
    kid: Annotated[str, typer.Option(help="the key's kid (list-clients shows them)")],
) -> None:
    """Retire a client's key now: nothing it signs from now on is accepted; signatures made
    while it was active still verify (the auditor checks each against the key of its time)."""
    from dexin.app import control_plane

    if not control_plane(Settings.from_env()).keys.retire(client_id, kid):
        raise fail("no such active key for that client", ExitCode.BAD_INPUT)
    sys.stdout.write(f"key {kid} retired\n")


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
    """Registered clients as JSON with their public keys' history (never a secret)."""
    from dexin.app import control_plane

    control = control_plane(Settings.from_env())
    rows = [
        {
            "client_id": c.client_id,
            "name": c.name,
            "role": c.role,
            "disabled": c.disabled_at is not None,
            "keys": [
                {
                    "kid": r.key.kid,
                    "added_at": r.added_at.isoformat(),
                    "retired_at": r.retired_at.isoformat() if r.retired_at else None,
                }
                for r in control.keys.history(c.client_id)
            ],
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
    if made is not None and made.client_secret is not None:
        doc["client_secret"] = made.client_secret
    if json_out:
        sys.stdout.write(json.dumps(doc) + "\n")
        return
    sys.stdout.write(f"officer:     {officer}\nenrol link:  {doc['enrol_url']}\n"
                     "(valid once, for 3 days; send it to the officer alone)\n")  # fmt: skip
    if made is not None and made.client_secret is not None:
        sys.stdout.write(f"client_secret: {made.client_secret} (shown only now)\n")
