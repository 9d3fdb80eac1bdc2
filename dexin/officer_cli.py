"""``dexin officer …``: an officer's own key, held by the officer (issue 14).

For officers who decide from a script instead of the console's passkey: ``enrol`` turns a
one-time invite link into a P-256 key in a 0600 file (`dexin.officer_key`), registered with
the gateway and on the ledger; ``vote`` signs one decision with it. The gateway never sees
the private key. Mount with ``app.add_typer(dexin.officer_cli.app, name="officer")``.
Exit codes (`dexin.errors`): 0 done; 1 the gateway refused the decision or the challenge did
not match the document shown; 2 bad input (a key file others can read, a malformed link);
4 the gateway cannot be reached.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

import typer

from dexin.errors import ExitCode, fail

app = typer.Typer(no_args_is_help=True, help="An officer's own key: enrol it, decide with it.")


@app.command("enrol")
def enrol_command(
    invite: Annotated[
        str, typer.Option(help="the enrolment link an admin sent (…/console/enrol#TOKEN)")
    ],
    key_out: Annotated[Path, typer.Option("--key-out", help="where to write the key (0600)")],
) -> None:
    """Register a new officer-held key through a one-time invite; write it to --key-out."""
    import httpx

    from dexin.officer_key import OfficerClientError, enrol, save

    parts = urlsplit(invite)
    if not parts.scheme or not parts.netloc or not parts.fragment:
        raise fail("the invite is a link with its token after '#'", ExitCode.BAD_INPUT)
    if key_out.exists():
        raise fail(f"{key_out} exists: an enrolment writes a new key", ExitCode.BAD_INPUT)
    with httpx.Client(base_url=f"{parts.scheme}://{parts.netloc}", timeout=60) as http:
        try:
            key = enrol(http, parts.fragment)
        except OfficerClientError as exc:
            raise fail(str(exc), ExitCode.CHECK_FAILED) from None
        except httpx.HTTPError as exc:
            raise fail(
                f"the gateway cannot be reached ({type(exc).__name__})", ExitCode.UNAVAILABLE
            ) from None
    save(key, key_out)
    sys.stdout.write(f"enrolled officer {key.client_id}: key in {key_out} (keep it; mode 0600)\n")


@app.command("vote")
def vote_command(
    request_id: Annotated[str, typer.Argument(help="the access request (ar_…)")],
    decision: Annotated[Literal["approve", "reject", "revoke"], typer.Argument()],
    key: Annotated[Path, typer.Option(help="the officer's key file (dexin officer enrol)")],
    gateway: Annotated[
        str, typer.Option(help="the gateway's URL (the origin the key was enrolled at)")
    ],
    secret_file: Annotated[Path, typer.Option(help="a file holding the officer's client secret")],
    json_out: Annotated[
        bool, typer.Option("--json", help="print the signed document as JSON")
    ] = False,
) -> None:
    """Sign DECISION on REQUEST_ID with the officer's own key and send it."""
    import httpx

    from dexin.officer_key import OfficerClientError, decide_with_file

    try:
        secret = secret_file.read_text(encoding="utf-8").strip()
        with httpx.Client(base_url=gateway.rstrip("/"), timeout=60) as http:
            document, status = decide_with_file(http, key, secret, request_id, decision)
    except (OSError, ValueError) as exc:
        raise fail(str(exc), ExitCode.BAD_INPUT) from None
    except OfficerClientError as exc:
        raise fail(str(exc), ExitCode.CHECK_FAILED) from None
    except httpx.HTTPError as exc:
        raise fail(
            f"the gateway cannot be reached ({type(exc).__name__})", ExitCode.UNAVAILABLE
        ) from None
    if json_out:
        sys.stdout.write(json.dumps({"signed": document, "status": status}) + "\n")
    else:
        sys.stdout.write(f"{decision} on {request_id} signed and recorded: the request is {status}\n"
                         f"signed document: {json.dumps(document, sort_keys=True)}\n")  # fmt: skip
