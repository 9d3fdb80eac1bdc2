"""The validation report: metrics of a scored population and a back-test, as HTML and PNG.

`compute_metrics(inputs)` is pure (numpy); `write_report(inputs, out_dir)` writes
``index.html``, ``metrics.json`` and ``figures/*.png`` (drawn by `credit_model.figures`).
The inputs hold no identifier: only scores, bands and the attributes the fairness and
stability tables group by (sex, age, town).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from credit_model import validation as v
from credit_model.spec import ModelSpec

F64 = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Population:
    """One scoring of the population on ``as_of``: scored people only (no-score counts apart).
    ``points`` ranks vetoed people like the others; ``decision`` puts them at 0."""

    as_of: dt.date
    points: F64
    bands: list[str]
    eligible: Bools
    vetoed: Bools
    sex: list[str]
    age: npt.NDArray[np.int64]
    town: list[str]
    dims: F64  # one column per dimension, spec order
    no_score: dict[str, int]

    @property
    def decision(self) -> F64:
        return np.where(self.vetoed, 0.0, self.points)


@dataclass(frozen=True)
class Backtest:
    """Scores on the observation date of the people who had loan instalments due after it,
    and whether one of those instalments went 90+ days overdue (a default)."""

    observation: dt.date
    outcome_until: dt.date
    decision: F64
    bands: list[str]
    bad: Bools
    sex: list[str]
    age: npt.NDArray[np.int64]


@dataclass(frozen=True)
class ReportInputs:
    spec: ModelSpec
    current: Population
    history: tuple[Population, ...]  # earlier scorings, oldest first
    backtest: Backtest


def _band_order(spec: ModelSpec) -> list[str]:
    return [b.code for b in sorted(spec.bands, key=lambda b: -b.min)]


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(x) for k, x in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(x) for x in value]
    return value


def compute_metrics(inputs: ReportInputs) -> dict[str, Any]:
    """Every number the report shows, JSON-ready (NaN becomes null)."""
    spec, cur, bt = inputs.spec, inputs.current, inputs.backtest
    bands = _band_order(spec)
    reference = v.shares(bt.bands, bands) if bt.bands else v.shares(cur.bands, bands)
    metrics = {
        "model": spec.ref,
        "spec_digest": spec.digest.hex(),
        "as_of": cur.as_of.isoformat(),
        "population": _population(spec, cur),
        "discrimination": {
            "observation": bt.observation.isoformat(),
            "outcome_until": bt.outcome_until.isoformat(),
            "borrowers": int(bt.bad.size),
            "defaults": int(bt.bad.sum()),
            "auc": v.auc(bt.decision, bt.bad),
            "ks": v.ks(bt.decision, bt.bad),
        },
        "calibration": [asdict(c) for c in v.calibration(
            bt.bands, bt.bad, [(b.code, b.expected_default_rate) for b in spec.bands])],
        "psi_towns": _psi_towns(cur, bands),
        "psi_time": [{"as_of": p.as_of.isoformat(), "psi": v.psi(reference, v.shares(p.bands, bands))}
                     for p in (*inputs.history, cur)],
        "fairness_sex": [asdict(g) for g in v.fairness(cur.sex, cur.points, cur.eligible,
                                                       (bt.sex, bt.decision, bt.bad))],
        "fairness_age": [asdict(g) for g in v.fairness(
            [v.age_group(int(a)) for a in cur.age], cur.points, cur.eligible,
            ([v.age_group(int(a)) for a in bt.age], bt.decision, bt.bad))],
    }  # fmt: skip
    return _clean(metrics)  # type: ignore[no-any-return]


def _population(spec: ModelSpec, cur: Population) -> dict[str, Any]:
    bands = _band_order(spec)
    return {
        "scored": int(cur.points.size),
        "no_score": cur.no_score,
        "eligible": int(cur.eligible.sum()),
        "vetoed": int(cur.vetoed.sum()),
        "mean_points": float(cur.points.mean()) if cur.points.size else math.nan,
        "bands": {b: int(sum(1 for x in cur.bands if x == b)) for b in bands},
        "dimension_means": {d.id: float(cur.dims[:, i].mean()) if cur.points.size else math.nan
                            for i, d in enumerate(spec.dimensions)},
    }  # fmt: skip


def _psi_towns(cur: Population, bands: list[str]) -> list[dict[str, Any]]:
    overall = v.shares(cur.bands, bands)
    town = np.asarray(cur.town)
    out = []
    for name in sorted(set(cur.town)):
        mask = town == name
        own = v.shares([b for b, m in zip(cur.bands, mask, strict=True) if m], bands)
        out.append({"town": name, "n": int(mask.sum()), "psi": v.psi(overall, own)})
    return out


def write_report(inputs: ReportInputs, out_dir: Path) -> Path:
    """Write the report under ``out_dir``; returns the path of ``index.html``."""
    from credit_model import figures

    metrics = compute_metrics(inputs)
    (out_dir / "figures").mkdir(parents=True, exist_ok=True)
    names = figures.draw_all(inputs, metrics, out_dir / "figures")
    (out_dir / "metrics.json").write_text(
        json.dumps(metrics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    page = out_dir / "index.html"
    page.write_text(render_html(inputs.spec, metrics, names), encoding="utf-8")
    return page


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    def cell(x: Any) -> str:
        if isinstance(x, float):
            return "–" if math.isnan(x) else f"{x:.4g}"
        return html.escape("–" if x is None else str(x))

    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell(x)}</td>" for x in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def render_html(spec: ModelSpec, m: dict[str, Any], figures: dict[str, str]) -> str:
    """The report page (zh-CN headings first, then English)."""

    def fig(key: str) -> str:
        return f'<img src="figures/{figures[key]}" alt="{key}" width="720">'

    def num(x: Any) -> float:
        return math.nan if x is None else float(x)

    pop, disc = m["population"], m["discrimination"]
    parts = [
        f"<h1>{html.escape(spec.zh)} / {html.escape(spec.en)} — 验证报告 Validation report</h1>",
        f"<p>Model <code>{spec.ref}</code>, spec SHA-256 <code>{m['spec_digest']}</code>, "
        f"as of {m['as_of']}.</p>",
        "<h2>评分分布 Score distribution</h2>", fig("distribution"),
        _table(["scored", "eligible", "vetoed", "mean points", "no score"],
               [[pop["scored"], pop["eligible"], pop["vetoed"], num(pop["mean_points"]),
                 ", ".join(f"{k}: {n}" for k, n in pop["no_score"].items())]]),
        "<h2>五维图 Five-dimension profiles</h2>", fig("radar"),
        "<h2>区分能力 Discrimination (back-test)</h2>",
        f"<p>Scores on {disc['observation']}; a default is a loan instalment due after that "
        f"day and 90+ days overdue by {disc['outcome_until']}. Vetoed people rank lowest.</p>",
        _table(["borrowers", "defaults", "AUC", "KS"],
               [[disc["borrowers"], disc["defaults"], num(disc["auc"]), num(disc["ks"])]]),
        fig("roc"),
        "<h2>分档校准 Calibration by band</h2>", fig("calibration"),
        _table(["band", "n", "defaults", "observed", "95% low", "95% high", "expected"],
               [[c["band"], c["n"], c["bads"], num(c["observed"]), num(c["low"]),
                 num(c["high"]), c["expected"]] for c in m["calibration"]]),
        "<h2>稳定性 Stability (PSI)</h2>", fig("psi"),
        _table(["as of", "PSI vs back-test date", "reading"],
               [[p["as_of"], num(p["psi"]), v.psi_verdict(num(p["psi"]))] for p in m["psi_time"]]),
        _table(["town", "n", "PSI vs all towns", "reading"],
               [[t["town"], t["n"], num(t["psi"]), v.psi_verdict(num(t["psi"]))] for t in m["psi_towns"]]),
        "<h2>公平性 Fairness by sex and age group</h2>", fig("fairness"),
        *(_table(["group", "n", "mean points", "eligible", "impact ratio", "borrowers",
                  "default rate", "AUC"],
                 [[g["group"], g["n"], num(g["mean_points"]), num(g["eligible_rate"]),
                   num(g["impact_ratio"]), g["borrowers"], num(g["bad_rate"]), num(g["auc"])]
                  for g in m[key]]) for key in ("fairness_sex", "fairness_age")),
    ]  # fmt: skip
    style = ("body{font-family:sans-serif;max-width:60em;margin:2em auto}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
             "padding:2px 8px;text-align:right}")  # fmt: skip
    return (f'<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>{spec.ref} '
            f"validation</title><style>{style}</style><body>{''.join(parts)}</body></html>\n")  # fmt: skip
