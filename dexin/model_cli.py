"""``dexin model …``: the 五维图 credit model for operators (mounted by `dexin.cli`).

- ``release``: an officer releases the spec's version on the ledger (anchors its digest);
- ``score-all``: features, person and household scores for the whole population, in the
  vault's derived tables (run it after each ingest);
- ``score --subject ID_NUMBER [--household] [--json]``: one score, with its reasons;
- ``report --out DIR``: the validation report (HTML, PNG figures, metrics.json).

Scores name the ledger release they came from; without one the commands refuse, unless
``--unreleased`` asks for a draft (its scores carry ``release: null``).

Exit codes (`dexin.errors`): 2 bad input (a bad spec, an invalid ID number, features missing
or stale); 3 a key problem; 4 the vault is missing or in use; 5 the model is not released, or
released with another spec, or the ledger failed. Each command imports the model, the vault
and the ledger when it runs.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from credit_model import errors as cerr
from dexin.errors import handle_errors
from dexin.settings import Settings

if TYPE_CHECKING:
    from credit_model import HouseholdScore, ModelSpec, ReleaseRef, ScoreResult

app = typer.Typer(no_args_is_help=True, help="The 五维图 morality-credit model.")
out = Console()

SpecOption = Annotated[
    Path | None, typer.Option("--spec", help="The model spec file (default: the packaged one).")
]
Unreleased = Annotated[
    bool,
    typer.Option("--unreleased", help="Score with a spec not released on the ledger (a draft)."),
]


def _spec(path: Path | None) -> ModelSpec:
    from credit_model import DEFAULT_SPEC, load_spec

    return load_spec(path or DEFAULT_SPEC)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


@contextmanager
def _release(settings: Settings, spec: ModelSpec, unreleased: bool) -> Iterator[ReleaseRef | None]:
    """The ledger release of ``spec`` (refusing an unreleased spec unless ``unreleased``)."""
    from dexin.app import open_ledger
    from governance import model_runs as scoring

    with open_ledger(settings) as ledger:
        release = scoring.find_release(ledger, spec)
    if release is None and not unreleased:
        raise cerr.NotReleasedError(spec.ref)
    yield release


@app.command("release")
@handle_errors
def release_command(
    spec_path: SpecOption = None,
    officer: Annotated[
        str | None,
        typer.Option(help="The officer account that signs (default: the model officer)."),
    ] = None,
) -> None:
    """Release the spec's model version on the ledger (idempotent): anchors its SHA-256."""
    from dexin.app import open_ledger
    from governance import model_runs as scoring

    spec = _spec(spec_path)
    with open_ledger(Settings.from_env()) as ledger:
        ref = scoring.release_spec(ledger, spec, officer or scoring.OFFICER)
    out.print(f"released {spec.ref}: spec sha256 {ref.spec_digest}")
    out.print(f"anchored in block {ref.block_number}, tx {ref.tx_hash}")


@app.command("score-all")
@handle_errors
def score_all_command(
    spec_path: SpecOption = None, unreleased: Unreleased = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:  # fmt: skip
    """Compute features, person and household scores for the whole population (in the vault)."""
    from dexin.app import open_vault, publish_configured
    from governance import model_runs as scoring

    settings, spec = Settings.from_env(), _spec(spec_path)
    with _release(settings, spec, unreleased) as release, open_vault(settings) as v:
        summary = scoring.score_all(v, spec, computed_at=_now(), release=release)
        publish_configured(settings, v)  # DEXIN_VAULT_SNAPSHOTS: for answer workers
    if as_json:
        _print_json({k: str(x) if isinstance(x, dt.date) else x for k, x in vars(summary).items()})
        return
    out.print(
        f"{summary.model} as of {summary.as_of}: {summary.subjects:,} residents, "
        f"{summary.scored:,} scored, {summary.eligible:,} eligible, {summary.households:,} "
        f"households (persons {summary.person_seconds:.1f} s, households "
        f"{summary.household_seconds:.1f} s)"
    )


@app.command("score")
@handle_errors
def score_command(
    subject: Annotated[str, typer.Option("--subject", help="The person's ID number.")],
    household: Annotated[bool, typer.Option("--household", help="Score their household.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    spec_path: SpecOption = None,
    unreleased: Unreleased = False,
) -> None:
    """Score one person (or their household) from the materialised features."""
    from dexin.app import open_vault
    from governance import model_runs as scoring

    settings, spec = Settings.from_env(), _spec(spec_path)
    with _release(settings, spec, unreleased) as release, open_vault(settings) as v:
        now = _now()
        result: ScoreResult | HouseholdScore | None = None
        if household:
            result = scoring.score_household_of(v, spec, subject, computed_at=now, release=release)
        if result is None:  # a person, or the household of someone not registered
            result = scoring.score_person(v, spec, subject, computed_at=now, release=release)
    if as_json:
        _print_json(result.model_dump(mode="json"))
    else:
        _print_score(result)


@app.command("report")
@handle_errors
def report_command(
    out_dir: Annotated[Path, typer.Option("--out", help="Where to write the report.")],
    observation: Annotated[
        str | None, typer.Option(help="Back-test date (YYYY-MM-DD); default two years back.")
    ] = None,
    spec_path: SpecOption = None,
) -> None:
    """Write the validation report: distribution, radar charts, AUC/KS, calibration, PSI, fairness."""
    from dexin.app import open_vault
    from dexin.model_report import build_report

    settings, spec = Settings.from_env(), _spec(spec_path)
    day = dt.date.fromisoformat(observation) if observation else None
    with open_vault(settings) as v:
        page = build_report(v, spec, out_dir, day)
    out.print(f"report written to {page}")


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def _print_score(r: ScoreResult | HouseholdScore) -> None:
    from rich.table import Table as RichTable

    from credit_model import ScoreResult

    who = r.subject if isinstance(r, ScoreResult) else f"household {r.household}"
    release = f"block {r.release.block_number}" if r.release else "UNRELEASED draft"
    out.print(f"{r.model} ({release}) as of {r.as_of} — {who}", highlight=False)
    if r.status == "no_score" and r.no_score_reason is not None:
        out.print(
            f"no score {r.no_score_reason.code}: {r.no_score_reason.zh} / {r.no_score_reason.en}"
        )
        return
    t = RichTable(title="五维图")
    t.add_column("dimension")
    t.add_column("score", justify="right")
    for d in r.dimensions:
        t.add_row(f"{d.zh} {d.en}", f"{d.score:.1f}")
    out.print(t)
    code = r.morality_code
    out.print(f"道德积分 morality points {r.morality_points}  道德码 code {code.code if code else '-'}  "
              f"credit line ¥{r.credit_line:,}{'' if r.eligible else ' (no credit)'}")  # fmt: skip
    for reason in r.reasons:
        lost = f" (−{reason.points_lost})" if reason.points_lost is not None else ""
        out.print(
            f"  {reason.code} [{reason.dimension}] {reason.zh} / {reason.en}{lost}", highlight=False
        )
