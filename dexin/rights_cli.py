"""``dexin rights …``: residents' rights from the command line, through a running gateway
(issue 18): the resident's credit report (JSON or PDF), a statement on a negative record, a
request for a human review; the officers' review queue and outcomes.

Every command takes ``--gateway URL`` and ``--token-file FILE`` (a file holding the bearer
token: a resident's from the identity provider, an officer's from ``/v1/oauth/token``).
Mount with ``app.add_typer(dexin.rights_cli.app, name="rights")``. Exit codes
(`dexin.errors`): 0 done; 1 the gateway refused (its reason is printed); 2 bad input; 4 the
gateway cannot be reached.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from dexin.errors import ExitCode, fail

app = typer.Typer(no_args_is_help=True, help="Residents' rights: report, statements, reviews.")
Gateway = Annotated[str, typer.Option(help="the gateway's URL")]
TokenFile = Annotated[Path, typer.Option("--token-file", help="a file holding the bearer token")]


def _call(gateway: str, token_file: Path, action: Callable[[Any, str], Any]) -> Any:
    import httpx

    from dexin.rights_client import RightsRefused

    try:
        token = token_file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise fail(f"cannot read {token_file}: {exc.strerror}", ExitCode.BAD_INPUT) from None
    try:
        with httpx.Client(base_url=gateway.rstrip("/"), timeout=120) as http:
            return action(http, token)
    except RightsRefused as exc:
        raise fail(str(exc), ExitCode.CHECK_FAILED) from None
    except httpx.HTTPError as exc:
        raise fail(f"the gateway cannot be reached ({type(exc).__name__})",
                   ExitCode.UNAVAILABLE) from None  # fmt: skip


def _print(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")


@app.command("report")
def report_command(
    gateway: Gateway,
    token_file: TokenFile,
    out: Annotated[Path, typer.Option(help="where to write the report")],
    pdf: Annotated[bool, typer.Option(help="the PDF instead of the JSON document")] = False,
    lang: Annotated[Literal["zh", "en"], typer.Option(help="the PDF's language")] = "zh",
) -> None:
    """Download my credit report (counted: two free a year, never refused)."""
    from dexin.rights_client import report

    body = _call(gateway, token_file, lambda http, token: report(http, token, pdf=pdf, lang=lang))
    out.write_bytes(body)
    sys.stdout.write(f"report written to {out}\n")


@app.command("statement")
def statement_command(
    gateway: Gateway,
    token_file: TokenFile,
    table: Annotated[str, typer.Option(help="the record's table (as the report lists it)")],
    contribution: Annotated[str, typer.Option(help="the record's contribution id")],
    row: Annotated[int, typer.Option(help="the record's row (leaf index)")],
    text: Annotated[str, typer.Option(help="the full statement")],
    short: Annotated[str, typer.Option(help="the short form banks receive")],
) -> None:
    """Attach a statement to one of my negative records."""
    from dexin.rights_client import statement

    record = {"table": table, "contribution_id": contribution, "row": row}
    _print(_call(gateway, token_file, lambda http, t: statement(http, t, record, text, short)))


@app.command("review")
def review_command(
    gateway: Gateway,
    token_file: TokenFile,
    ask: Annotated[str, typer.Option(help="what I would like explained and reviewed")],
) -> None:
    """Ask for an explanation and a human review of my score."""
    from dexin.rights_client import ask_review

    _print(_call(gateway, token_file, lambda http, token: ask_review(http, token, ask)))


@app.command("reviews")
def reviews_command(gateway: Gateway, token_file: TokenFile) -> None:
    """The officers' review queue (clocks only)."""
    from dexin.rights_client import review_queue

    _print(_call(gateway, token_file, review_queue))


@app.command("decide")
def decide_command(
    review: Annotated[str, typer.Argument(help="the review (rv_…)")],
    gateway: Gateway,
    token_file: TokenFile,
    outcome: Annotated[Literal["upheld", "corrected", "noted"], typer.Option()],
    note: Annotated[str, typer.Option(help="the officer's note to the resident")],
    dispute: Annotated[
        str | None, typer.Option(help="the dispute a correction went through")
    ] = None,
) -> None:
    """Record an officer's outcome of a review."""
    from dexin.rights_client import decide_review

    _print(_call(gateway, token_file,
                 lambda http, t: decide_review(http, t, review, outcome, note, dispute)))  # fmt: skip
