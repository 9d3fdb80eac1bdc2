"""``dexin provider …``: a provider's side of disputes and credit repair (issue 18).

Providers are machine clients that prove their own part with their own key: they answer
disputes and repair records here (or through the API, `dexin_client.DexinClient`),
authenticated with their own key file (``dexin admin create-client --role provider
--generate-key DIR``), which also signs each answer, correction, repair and decision on an
application (`governance.repair_signatures`; their staff only read
the inbox in the console, ``/console/provider/disputes``):
``inbox`` lists the disputes of their records with each clock, ``show`` one with the
resident's reason (``--attachment FILE`` saves the file they sent), ``answer`` confirms or
deletes the record, ``correct`` answers with a correcting contribution (one row restating
the record), ``repairs`` lists repairs and applications, ``repair`` repairs a record from a
date, ``decide`` grants or refuses an application. Mount with
``app.add_typer(dexin.provider_cli.app, name="provider")``. Exit codes (`dexin.errors`):
0 done; 1 the gateway refused (its RFC 9457 reason is printed); 2 bad input; 4 the gateway
cannot be reached.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from dexin.errors import ExitCode, fail

if TYPE_CHECKING:
    from dexin_client import DexinClient

app = typer.Typer(no_args_is_help=True, help="A provider's disputes and credit repairs.")
GatewayOpt = Annotated[str, typer.Option("--gateway", help="the gateway's URL")]
KeyOpt = Annotated[Path, typer.Option("--key", help="the provider's key file (0600)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print the gateway's JSON")]


@contextlib.contextmanager
def _client(gateway: str, key: Path) -> Iterator[DexinClient]:
    """The provider's client; the gateway's refusals and outages become exit codes."""
    import httpx

    from dexin_client import DexinClient, GatewayProblem, KeyFileError

    try:
        client = DexinClient.from_key_file(gateway, key)
    except (KeyFileError, OSError) as exc:
        raise fail(f"cannot use the key file: {exc}", ExitCode.BAD_INPUT) from None
    try:
        with client:
            yield client
    except GatewayProblem as exc:
        reason = exc.problem.get("reason") or exc.problem.get("title")
        raise fail(f"the gateway refused ({exc.status}): {reason}", ExitCode.CHECK_FAILED) from None
    except httpx.HTTPError as exc:
        raise fail(
            f"the gateway cannot be reached ({type(exc).__name__})", ExitCode.UNAVAILABLE
        ) from None


def _print(document: Any, as_json: bool, line: str) -> None:
    sys.stdout.write(
        (json.dumps(document, ensure_ascii=False, indent=1) if as_json else line) + "\n"
    )


def _clock(d: dict[str, Any]) -> str:
    state = (
        d["status"] if d["status"] == "answered" else f"{d['status']}, {d['days_left']} days left"
    )
    what = f"{d['table']} {d['record_key']}" if d["scope"] == "record" else "the score"
    return f"{d['id']}  {what}  received {d['received_at'][:10]}  due {d['due_at'][:10]}  ({state})"


@app.command("inbox")
def inbox_command(gateway: GatewayOpt, key: KeyOpt, as_json: JsonOpt = False) -> None:
    """The disputes of this provider's records, open ones first, each with its clock."""
    with _client(gateway, key) as client:
        found = client.disputes()
    _print(found, as_json, "\n".join(_clock(d) for d in found) or "no disputes")


@app.command("show")
def show_command(
    dispute_id: Annotated[str, typer.Argument(help="the dispute (dsp_…)")],
    gateway: GatewayOpt,
    key: KeyOpt,
    attachment: Annotated[Path | None, typer.Option(help="save the resident's file here")] = None,
    as_json: JsonOpt = False,
) -> None:
    """One dispute with the resident's reason (and its attachment, saved with --attachment)."""
    with _client(gateway, key) as client:
        found = client.dispute(dispute_id)
        if attachment is not None and found["attachment"]:
            attachment.write_bytes(client.dispute_attachment(dispute_id)[1])
    _print(found, as_json, f"{_clock(found)}\nreason: {found['reason']}")


@app.command("answer")
def answer_command(
    dispute_id: Annotated[str, typer.Argument(help="the dispute (dsp_…)")],
    outcome: Annotated[Literal["confirmed", "deleted"], typer.Argument()],
    gateway: GatewayOpt,
    key: KeyOpt,
    note: Annotated[str, typer.Option(help="the answer the resident reads")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Confirm the disputed record as it stands, or delete it."""
    with _client(gateway, key) as client:
        found = client.answer_dispute(dispute_id, outcome, note)
    _print(
        found, as_json, f"{_clock(found)}: {found['outcome']}{' (late)' if found['late'] else ''}"
    )


@app.command("correct")
def correct_command(
    dispute_id: Annotated[str, typer.Argument(help="the dispute (dsp_…)")],
    table: Annotated[str, typer.Option(help="the disputed record's table")],
    file: Annotated[Path, typer.Argument(help="one row restating the record (.csv, .parquet)")],
    gateway: GatewayOpt,
    key: KeyOpt,
    as_json: JsonOpt = False,
) -> None:
    """Answer with a correcting contribution: it supersedes the disputed row."""
    if not file.is_file():
        raise fail(f"{file} is not a file", ExitCode.BAD_INPUT)
    with _client(gateway, key) as client:
        found = client.correct_dispute(dispute_id, table, file)
    c = found["contribution"]
    _print(found, as_json, f"{_clock(found['dispute'])}: corrected by {c['contribution_id']} "
                           f"(root {c['merkle_root']}, anchor {c['anchor']})")  # fmt: skip


@app.command("repairs")
def repairs_command(gateway: GatewayOpt, key: KeyOpt, as_json: JsonOpt = False) -> None:
    """This provider's repairs and the residents' applications, pending ones first."""
    with _client(gateway, key) as client:
        found = client.repairs()
    lines = [f"{r['id']}  {r['record']['table']} {r['record_key']}  {r['origin']}  {r['status']}"
             f"{'  from ' + r['repaired_on'] if r['repaired_on'] else ''}" for r in found]  # fmt: skip
    _print(found, as_json, "\n".join(lines) or "no repairs")


@app.command("repair")
def repair_command(
    gateway: GatewayOpt,
    key: KeyOpt,
    table: Annotated[str, typer.Option(help="the record's table")],
    contribution: Annotated[str, typer.Option(help="the record's contribution (c…)")],
    row: Annotated[int, typer.Option(help="the record's row in its contribution")],
    repaired_on: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default: today)")] = None,
    note: Annotated[str, typer.Option(help="the basis of the repair")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Repair a record from a date: from then on it no longer counts (signed with the key)."""
    record = {"table": table, "contribution_id": contribution, "row": row}
    with _client(gateway, key) as client:
        found = client.file_repair(record, repaired_on, note)
    _print(found, as_json, f"{found['id']}: repaired from {found['repaired_on']}")


@app.command("decide")
def decide_command(
    repair_id: Annotated[str, typer.Argument(help="the application (rep_…)")],
    decision: Annotated[Literal["granted", "refused"], typer.Argument()],
    gateway: GatewayOpt,
    key: KeyOpt,
    repaired_on: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default: today)")] = None,
    note: Annotated[str, typer.Option(help="the answer the resident reads")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Grant or refuse a resident's application for repair (signed with the key)."""
    with _client(gateway, key) as client:
        found = client.decide_repair(repair_id, decision, repaired_on, note)
    _print(found, as_json, f"{found['id']}: {found['status']}")
