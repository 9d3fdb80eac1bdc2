"""The validation report's figures (matplotlib, Agg backend: no display needed).

Labels are English: the machines that draw them have no CJK font, and a missing glyph
would be a silent box. The HTML around them carries the Chinese.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from credit_model import validation as v

if TYPE_CHECKING:
    from credit_model.report import ReportInputs

DPI = 100


def _save(fig: Figure, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    return path.name


def draw_all(inputs: ReportInputs, metrics: dict[str, Any], out: Path) -> dict[str, str]:
    """Draw every figure into ``out``; returns figure key → file name."""
    return {
        "distribution": _distribution(inputs, out / "distribution.png"),
        "radar": _radar(inputs, out / "radar.png"),
        "roc": _roc(inputs, metrics, out / "roc.png"),
        "calibration": _calibration(metrics, out / "calibration.png"),
        "psi": _psi(metrics, out / "psi.png"),
        "fairness": _fairness(metrics, out / "fairness.png"),
    }


def _distribution(inputs: ReportInputs, path: Path) -> str:
    spec, cur = inputs.spec, inputs.current
    fig, ax = plt.subplots(figsize=(8, 4))
    for b in spec.bands:
        ax.axvspan(b.min, b.max, color=b.colour, alpha=0.25, lw=0)
        ax.text((b.min + b.max) / 2, 1.0, b.code, transform=ax.get_xaxis_transform(),
                ha="center", va="bottom")  # fmt: skip
    ax.hist(
        cur.points, bins=[float(x) for x in np.arange(40, spec.points.scale + 1, 1.0)], color="#444"
    )
    ax.axvline(spec.points.qualifying, color="k", ls="--", lw=1, label="qualifying points")
    ax.set_xlabel(f"morality points (0–{spec.points.scale:g})")
    ax.set_ylabel("people")
    ax.legend(loc="upper left")
    return _save(fig, path)


def _radar_axes(fig: Figure, pos: int, labels: list[str]) -> Any:
    ax = fig.add_subplot(1, 2, pos, projection="polar")
    angles = np.linspace(0, 2 * np.pi, len(labels), endpoint=False)
    ax.set_xticks(angles)
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_ylim(0, 100)
    return ax, np.r_[angles, angles[:1]]


def _radar(inputs: ReportInputs, path: Path) -> str:
    spec, cur = inputs.spec, inputs.current
    labels = [d.en for d in spec.dimensions]
    fig = plt.figure(figsize=(11, 5))
    ax, closed = _radar_axes(fig, 1, labels)
    bands = np.asarray(cur.bands)
    for b in spec.bands:
        mask = bands == b.code
        if mask.any():
            prof = cur.dims[mask].mean(axis=0)
            ax.plot(closed, np.r_[prof, prof[:1]], color=b.colour, lw=2, label=f"band {b.code}")
    ax.set_title("mean profile per band")
    ax.legend(loc="lower left", bbox_to_anchor=(-0.25, -0.15), fontsize=8)
    ax2, _ = _radar_axes(fig, 2, labels)
    rng = np.random.default_rng(4)
    for b in spec.bands[:4]:
        idx = np.flatnonzero(bands == b.code)
        if idx.size:
            prof = cur.dims[rng.choice(idx)]
            ax2.plot(closed, np.r_[prof, prof[:1]], color=b.colour, lw=2)
            ax2.fill(closed, np.r_[prof, prof[:1]], color=b.colour, alpha=0.15)
    ax2.set_title("sample profiles (one per band)")
    return _save(fig, path)


def _roc(inputs: ReportInputs, metrics: dict[str, Any], path: Path) -> str:
    bt = inputs.backtest
    disc = metrics["discrimination"]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    fpr, tpr = v.roc_curve(bt.decision, bt.bad)
    a1.plot(fpr, tpr, color="#2166ac")
    a1.plot([0, 1], [0, 1], color="#999", ls=":")
    a1.set_title(f"ROC (AUC {disc['auc'] or float('nan'):.3f})")
    a1.set_xlabel("goods rejected")
    a1.set_ylabel("defaults rejected")
    for mask, label, colour in ((bt.bad, "defaults", "#d73027"), (~bt.bad, "goods", "#1a9850")):
        values = np.sort(bt.decision[mask])
        a2.step(
            values, np.arange(1, values.size + 1) / max(values.size, 1), color=colour, label=label
        )
    a2.set_title(f"KS {disc['ks'] or float('nan'):.3f}")
    a2.set_xlabel("score on the observation date (veto = 0)")
    a2.set_ylabel("cumulative share")
    a2.legend()
    return _save(fig, path)


def _calibration(metrics: dict[str, Any], path: Path) -> str:
    rows = metrics["calibration"]
    x = np.arange(len(rows))
    obs = np.array([r["observed"] if r["observed"] is not None else np.nan for r in rows])
    low = np.array([r["low"] if r["low"] is not None else np.nan for r in rows])
    high = np.array([r["high"] if r["high"] is not None else np.nan for r in rows])
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.errorbar(
        x, obs, yerr=[obs - low, high - obs], fmt="o", color="#2166ac", label="observed (95% CI)"
    )
    ax.plot(x, [r["expected"] for r in rows], "s--", color="#d73027", label="expected (spec)")
    ax.set_xticks(x)
    ax.set_xticklabels([f"{r['band']}\n(n={r['n']})" for r in rows])
    ax.set_ylabel("default rate")
    ax.legend()
    return _save(fig, path)


def _psi(metrics: dict[str, Any], path: Path) -> str:
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    towns = metrics["psi_towns"]
    a1.bar([t["town"] for t in towns], [t["psi"] for t in towns], color="#4393c3")
    a1.axhline(0.1, color="#999", ls="--", lw=1)
    a1.set_title("PSI of each town vs all towns")
    a1.tick_params(axis="x", rotation=90, labelsize=7)
    times = metrics["psi_time"]
    a2.plot([t["as_of"] for t in times], [t["psi"] for t in times], "o-", color="#4393c3")
    a2.axhline(0.1, color="#999", ls="--", lw=1)
    a2.set_title("PSI over time vs the back-test date")
    a2.tick_params(axis="x", rotation=30, labelsize=8)
    return _save(fig, path)


def _fairness(metrics: dict[str, Any], path: Path) -> str:
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, title in zip(
        axes, ("fairness_sex", "fairness_age"), ("sex", "age group"), strict=True
    ):
        groups = metrics[key]
        x = np.arange(len(groups))
        ax.bar(
            x - 0.2, [g["eligible_rate"] for g in groups], 0.4, label="eligible", color="#1a9850"
        )
        bad = [g["bad_rate"] if g["bad_rate"] is not None else 0.0 for g in groups]
        ax.bar(x + 0.2, bad, 0.4, label="default rate (borrowers)", color="#d73027")
        ax.set_xticks(x)
        ax.set_xticklabels([g["group"] for g in groups])
        ax.set_title(f"by {title}")
        ax.legend(fontsize=8)
    return _save(fig, path)
