"""Server-rendered SVG charts (pure functions: values in, escaped markup out)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup, escape

PALETTE = ("#c0392b", "#2e86c1", "#28b463", "#d68910", "#7d3c98", "#17a589", "#566573",
           "#e67e22", "#1a5276", "#a93226", "#7dcea0", "#f4d03f", "#5dade2", "#af7ac5",
           "#873600", "#b3b6b7")  # fmt: skip


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


Label = str | tuple[str, str]  # words, or (words, code): the code drawn after them in small type


def text_width(text: str, size: float) -> float:
    """About how wide ``text`` is drawn at font size ``size`` (CJK full width, the rest ~0.6)."""
    return sum(size if ord(ch) >= 0x2E80 else 0.6 * size for ch in text)


def wrap(text: str, size: float, room: float) -> list[str]:
    """``text`` in lines no wider than ``room`` (at spaces where it can, else anywhere)."""
    lines: list[str] = []
    line = ""
    for word in text.replace("\n", " ").split(" "):
        candidate = f"{line} {word}" if line else word
        if text_width(candidate, size) <= room:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = ""
        for ch in word:
            if text_width(line + ch, size) > room and line:
                lines.append(line)
                line = ""
            line += ch
    if line:
        lines.append(line)
    return lines or [""]


def _parts(label: Label) -> tuple[str, str | None]:
    return (label, None) if isinstance(label, str) else label


def _empty(text: str) -> Markup:
    return Markup('<p class="empty">{}</p>').format(text)


def bars(
    rows: Sequence[tuple[Label, float]], width: int = 520, unit: str = "", empty: str = "—"
) -> Markup:
    """Horizontal bars, one per (label, value); a long label wraps onto more lines instead of
    being cut off, and a label's code (if any) follows it in small type."""
    if not rows:
        return _empty(empty)
    size, line_h = 12, 15
    labels = [_parts(label) for label, _ in rows]
    widest = max(text_width(w, size) for w, _ in labels)
    codes = max((text_width(c, 10) for _, c in labels if c), default=0.0)
    label_w = min(max(widest, codes), width * 0.45) + 8
    room = label_w - 8
    value_w = 8 + text_width(f"{max(v for _, v in rows):,.0f}{unit}", size)
    top = max(v for _, v in rows) or 1
    layout = []
    y = 4.0
    for (words, code), (_, value) in zip(labels, rows, strict=True):
        lines = wrap(words, size, room) + ([code] if code else [])
        h = max(22.0, line_h * len(lines) + 6)
        layout.append((y, h, lines, code, value))
        y += h + 4
    h_total = int(y + 4)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {h_total}" '
             f'width="{width}" height="{h_total}" role="img" class="bars">']  # fmt: skip
    bar_room = max(40.0, width - label_w - value_w - 4)
    for i, (y, h, lines, code, value) in enumerate(layout):
        w = bar_room * value / top
        colour = PALETTE[i % len(PALETTE)]
        first = y + (h - line_h * len(lines)) / 2 + 11
        spans = []
        for j, line in enumerate(lines):
            small = code is not None and j == len(lines) - 1
            attrs = ' class="code" font-size="10" fill="#6b7a8c"' if small else ""
            spans.append(f'<tspan x="{label_w - 6:.1f}" y="{first + j * line_h:.1f}"{attrs}>'
                         f"{escape(line)}</tspan>")  # fmt: skip
        parts.append(f'<text text-anchor="end" font-size="{size}">{"".join(spans)}</text>')
        bar_y = y + (h - 18) / 2
        parts.append(f'<rect x="{label_w:.1f}" y="{bar_y:.1f}" width="{w:.1f}" height="18" '
                     f'fill="{colour}" />')  # fmt: skip
        parts.append(f'<text x="{label_w + w + 4:.1f}" y="{bar_y + 14:.1f}" font-size="{size}">'
                     f"{value:,.0f}{escape(unit)}</text>")  # fmt: skip
    parts.append("</svg>")
    return Markup("".join(parts))


def stacked(
    groups: Sequence[str], series: Sequence[str], values: dict[tuple[str, str], float],
    width: int = 640, names: dict[str, str] | None = None, empty: str = "—",
) -> Markup:  # fmt: skip
    """Vertical stacked columns: one column per group, one colour per series, with a legend.
    ``names``: what to write for a group or series (its code otherwise). Group labels are
    written whole, slanted when they are wider than their column; the legend flows onto as
    many lines as it needs."""
    if not groups:
        return _empty(empty)
    names = names or {}
    shown = {k: names.get(k, k) for k in (*groups, *series)}
    totals = [sum(values.get((g, s), 0) for s in series) for g in groups]
    top = max(totals) or 1
    plot_h, col_w = 200, max(12, min(48, (width - 60) // max(1, len(groups)) - 6))
    tick, legend_size = 11, 12
    widest = max(text_width(shown[g], tick) for g in groups)
    slanted = widest > col_w + 4
    axis_h = widest * 0.72 + 16 if slanted else 22.0
    left = max(40.0, widest * 0.72 - col_w / 2 + 6) if slanted else 40.0
    width = max(width, int(left + len(groups) * (col_w + 6) + 10))
    legend: list[tuple[float, float, str, int]] = []  # x, y, text, series index
    lx, ly = 40.0, plot_h + 14 + axis_h
    for si, s in enumerate(series):
        item_w = 16 + text_width(shown[s], legend_size) + 18
        if lx + item_w > width and lx > 40:
            lx, ly = 40.0, ly + 18
        legend.append((lx, ly, shown[s], si))
        lx += item_w
    h = int(ly + 26)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {h}" width="{width}" '
             f'height="{h}" role="img" class="stacked">']  # fmt: skip
    for gi, g in enumerate(groups):
        x, y = left + gi * (col_w + 6), 10.0 + plot_h
        for si, s in enumerate(series):
            v = values.get((g, s), 0)
            bh = plot_h * v / top
            y -= bh
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{col_w}" height="{bh:.1f}" '
                         f'fill="{PALETTE[si % len(PALETTE)]}"><title>{escape(shown[g])} '
                         f"{escape(shown[s])}: {v:,.0f}</title></rect>")  # fmt: skip
        cx, cy = x + col_w / 2, plot_h + 26
        if slanted:
            parts.append(f'<text x="{cx:.1f}" y="{cy:.1f}" font-size="{tick}" text-anchor="end" '
                         f'transform="rotate(-45 {cx:.1f} {cy:.1f})">{escape(shown[g])}</text>')  # fmt: skip
        else:
            parts.append(f'<text x="{cx:.1f}" y="{cy:.1f}" font-size="{tick}" '
                         f'text-anchor="middle">{escape(shown[g])}</text>')  # fmt: skip
    for lx, ly, text, si in legend:
        parts.append(f'<rect x="{lx:.1f}" y="{ly:.1f}" width="12" height="12" '
                     f'fill="{PALETTE[si % len(PALETTE)]}" />')  # fmt: skip
        parts.append(f'<text x="{lx + 16:.1f}" y="{ly + 11:.1f}" font-size="{legend_size}">'
                     f"{escape(text)}</text>")  # fmt: skip
    parts.append("</svg>")
    return Markup("".join(parts))
