"""Server-rendered SVG charts (pure functions: values in, escaped markup out)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup, escape

PALETTE = ("#c0392b", "#2e86c1", "#28b463", "#d68910", "#7d3c98", "#17a589", "#566573")


def radar(labels: Sequence[str], values: Sequence[float | None], size: int = 320) -> Markup:
    """The 五维图: one axis per dimension, scores 0–100 (a missing score is drawn at 0)."""
    c, r = size / 2, size / 2 - 56
    n = len(labels)

    def point(i: int, frac: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * i / n
        return c + r * frac * math.cos(angle), c + r * frac * math.sin(angle)

    def ring(frac: float) -> str:
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in (point(i, frac) for i in range(n)))

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
             f'width="{size}" height="{size}" role="img" class="radar">']  # fmt: skip
    parts += [
        f'<polygon points="{ring(f)}" fill="none" stroke="#ccd" />' for f in (0.25, 0.5, 0.75, 1)
    ]
    for i, label in enumerate(labels):
        x, y = point(i, 1)
        lx, ly = point(i, 1.22)
        parts.append(f'<line x1="{c}" y1="{c}" x2="{x:.1f}" y2="{y:.1f}" stroke="#ccd" />')
        parts.append(f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="middle" '
                     f'dominant-baseline="middle" font-size="13">{escape(label)}</text>')  # fmt: skip
    fracs = [max(0.0, min(100.0, v or 0.0)) / 100 for v in values]
    shape = " ".join(f"{x:.1f},{y:.1f}" for x, y in (point(i, f) for i, f in enumerate(fracs)))
    parts.append(f'<polygon points="{shape}" fill="rgba(192,57,43,0.35)" stroke="#c0392b" '
                 'stroke-width="2" class="radar-shape" />')  # fmt: skip
    for i, f in enumerate(fracs):
        x, y = point(i, f)
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#c0392b" />')
    parts.append("</svg>")
    return Markup("".join(parts))


def bars(rows: Sequence[tuple[str, float]], width: int = 520, unit: str = "") -> Markup:
    """Horizontal bars, one per (label, value)."""
    if not rows:
        return Markup('<p class="empty">—</p>')
    top = max(v for _, v in rows) or 1
    h = 22 * len(rows) + 8
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {h}" width="{width}" '
             f'height="{h}" role="img" class="bars">']  # fmt: skip
    for i, (label, value) in enumerate(rows):
        y = 4 + 22 * i
        w = (width - 230) * value / top
        colour = PALETTE[i % len(PALETTE)]
        parts.append(f'<text x="150" y="{y + 14}" text-anchor="end" font-size="12">'
                     f"{escape(label)}</text>")  # fmt: skip
        parts.append(f'<rect x="156" y="{y}" width="{w:.1f}" height="18" fill="{colour}" />')
        parts.append(f'<text x="{160 + w:.1f}" y="{y + 14}" font-size="12">'
                     f"{value:,.0f}{escape(unit)}</text>")  # fmt: skip
    parts.append("</svg>")
    return Markup("".join(parts))


def stacked(
    groups: Sequence[str], series: Sequence[str], values: dict[tuple[str, str], float],
    width: int = 640,
) -> Markup:  # fmt: skip
    """Vertical stacked columns: one column per group, one colour per series, with a legend."""
    if not groups:
        return Markup('<p class="empty">—</p>')
    totals = [sum(values.get((g, s), 0) for s in series) for g in groups]
    top = max(totals) or 1
    plot_h, col_w = 200, max(12, min(48, (width - 60) // max(1, len(groups)) - 6))
    h = plot_h + 70 + 18 * ((len(series) + 3) // 4)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {h}" width="{width}" '
             f'height="{h}" role="img" class="stacked">']  # fmt: skip
    for gi, g in enumerate(groups):
        x, y = 40 + gi * (col_w + 6), 10.0 + plot_h
        for si, s in enumerate(series):
            v = values.get((g, s), 0)
            bh = plot_h * v / top
            y -= bh
            parts.append(f'<rect x="{x}" y="{y:.1f}" width="{col_w}" height="{bh:.1f}" '
                         f'fill="{PALETTE[si % len(PALETTE)]}"><title>{escape(g)} {escape(s)}: '
                         f"{v:,.0f}</title></rect>")  # fmt: skip
        parts.append(f'<text x="{x + col_w / 2}" y="{plot_h + 26}" font-size="10" '
                     f'text-anchor="middle">{escape(g[-10:])}</text>')  # fmt: skip
    for si, s in enumerate(series):
        lx, ly = 40 + (si % 4) * 150, plot_h + 48 + 18 * (si // 4)
        parts.append(f'<rect x="{lx}" y="{ly}" width="12" height="12" '
                     f'fill="{PALETTE[si % len(PALETTE)]}" />')  # fmt: skip
        parts.append(f'<text x="{lx + 16}" y="{ly + 11}" font-size="12">{escape(s)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
