"""Inline SVG charts for the HTML report, generated as text: no JavaScript, nothing remote.

Every label that comes from data goes through :func:`esc` (HTML-escaping), so a mode called
``<script>`` is drawn as text.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from typing import TypedDict

from annotator.core.plaintext import strip_bidi
from annotator.core.report.fmt import NA, fmt_flags, fmt_with_ci

# Landis & Koch (1977) bands for kappa: (upper bound, name, colour); colours from ColorBrewer RdBu.
LANDIS_KOCH = (
    (0.0, "poor (< 0)", "#b2182b"),
    (0.20, "slight (0.00-0.20)", "#d6604d"),
    (0.40, "fair (0.21-0.40)", "#f4a582"),
    (0.60, "moderate (0.41-0.60)", "#92c5de"),
    (0.80, "substantial (0.61-0.80)", "#4393c3"),
    (1.0, "almost perfect (0.81-1.00)", "#2166ac"),
)
UNDEFINED_COLOUR = "#bdbdbd"
FONT = 'font-family="system-ui, sans-serif" font-size="12"'
Scale = Callable[[float], float]


class KappaRow(TypedDict):
    """One row of :func:`kappa_chart` (value None: undefined)."""

    label: str
    tooltip: str
    value: float | None
    low: float | None
    high: float | None
    flags: list[str]


class HeatCell(TypedDict):
    """One cell of :func:`heatmap`."""

    fill: str
    text: str
    tooltip: str


def esc(text: object) -> str:
    """Text from data for HTML or SVG: escaped, and without bidi controls (a U+202E in a rater name would
    reverse the rest of its line; stripped rather than isolated with <bdi>, as in the app and the Markdown
    report, so the three show the same text)."""
    return html.escape(strip_bidi(text), quote=True)


def band(kappa: float | None) -> tuple[str, str]:
    """(band name, colour) of a kappa value; the grey "undefined" band for None."""
    if kappa is None:
        return "undefined", UNDEFINED_COLOUR
    if kappa < 0:
        return LANDIS_KOCH[0][1], LANDIS_KOCH[0][2]
    for upper, name, colour in LANDIS_KOCH[1:]:
        if kappa <= upper:
            return name, colour
    return LANDIS_KOCH[-1][1], LANDIS_KOCH[-1][2]


def shorten(text: object, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _svg(width: float, height: float, body: list[str], title: str) -> str:
    # Inline SVG in HTML needs no xmlns, which keeps the file free of any URL.
    return (f'<svg width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="{esc(title)}" {FONT}>'
            f"<title>{esc(title)}</title>" + "".join(body) + "</svg>")


def kappa_chart(rows: list[KappaRow], *, title: str) -> str:
    """Horizontal dot-and-whisker chart: one row per mode, kappa with its CI, coloured by band.

    Flagged rows get a triangle marker; undefined rows say "n/a".
    """
    label_w, plot_w, value_w, row_h, top, bottom = 300, 380, 190, 22, 10, 34
    numbers = [x for r in rows for x in (r["value"], r["low"], r["high"]) if x is not None]
    x_min = max(-1.0, min([0.0] + [math.floor(x * 5) / 5 for x in numbers]))

    def scale(x: float) -> float:
        return label_w + (x - x_min) / (1 - x_min) * plot_w

    height = top + row_h * max(len(rows), 1) + bottom
    body = _band_backgrounds(x_min, scale, top, height - bottom)
    body += _x_axis(x_min, scale, top, height - bottom)
    for i, row in enumerate(rows):
        body += _kappa_row(row, top + i * row_h + row_h / 2, scale, label_w, plot_w)
    return _svg(label_w + plot_w + value_w, height, body, title)


def _band_backgrounds(x_min: float, scale: Scale, y0: float, y1: float) -> list[str]:
    out, lower = [], -1.0
    for upper, name, colour in LANDIS_KOCH:
        lo, hi = max(lower, x_min), upper
        if hi > lo:
            out.append(f'<rect x="{scale(lo):.1f}" y="{y0}" width="{scale(hi) - scale(lo):.1f}" '
                       f'height="{y1 - y0}" fill="{colour}" fill-opacity="0.12"><title>{esc(name)}</title></rect>')
        lower = upper
    return out


def _x_axis(x_min: float, scale: Scale, y0: float, y1: float) -> list[str]:
    out = []
    tick = x_min
    while tick <= 1.0 + 1e-9:
        x = scale(tick)
        dash = ' stroke-dasharray="3 2"' if abs(tick) < 1e-9 else ""  # zero line dashed
        out.append(f'<line x1="{x:.1f}" y1="{y0}" x2="{x:.1f}" y2="{y1}" stroke="#999" stroke-width="0.5"{dash}/>')
        out.append(f'<text x="{x:.1f}" y="{y1 + 14}" text-anchor="middle" fill="#333">{tick:.1f}</text>')
        tick = round(tick + 0.2, 10)
    out.append(f'<text x="{scale((x_min + 1) / 2):.1f}" y="{y1 + 29}" text-anchor="middle" fill="#333">'
               "Cohen's kappa (mean over rater pairs), 95% CI</text>")
    return out


def _kappa_row(row: KappaRow, y: float, scale: Scale, label_w: float, plot_w: float) -> list[str]:
    name, colour = band(row["value"])
    tip = esc(f"{row['tooltip']} | {name}" + (f" | flags: {fmt_flags(row['flags'])}" if row["flags"] else ""))
    out = [f'<g><title>{tip}</title>',
           f'<text x="{label_w - 8}" y="{y + 4:.1f}" text-anchor="end" fill="#111">'
           f'{esc(shorten(row["label"], 42))}</text>']
    right = label_w + plot_w + 8
    value, low, high = row["value"], row["low"], row["high"]
    if value is None:
        out.append(f'<text x="{scale(0):.1f}" y="{y + 4:.1f}" fill="#777" font-style="italic">{NA} (undefined)</text>')
    else:
        if low is not None and high is not None:
            out.append(f'<line x1="{scale(low):.1f}" y1="{y:.1f}" x2="{scale(high):.1f}" y2="{y:.1f}" '
                       f'stroke="{colour}" stroke-width="2.5"/>')
        out.append(f'<circle cx="{scale(value):.1f}" cy="{y:.1f}" r="5" fill="{colour}" '
                   'stroke="#222" stroke-width="0.8"/>')
        out.append(f'<text x="{right + 14}" y="{y + 4:.1f}" fill="#111">{fmt_with_ci(value, low, high)}</text>')
    if row["flags"]:
        out.append(f'<path d="M{right} {y + 5:.1f} L{right + 5} {y - 5:.1f} L{right + 10} {y + 5:.1f} Z" '
                   'fill="#e08214"/>')
    out.append("</g>")
    return out


def legend() -> str:
    """Band swatches (Landis & Koch 1977), the undefined grey, and the flag marker."""
    items = [(colour, name) for _, name, colour in LANDIS_KOCH] + [(UNDEFINED_COLOUR, f"undefined ({NA})")]
    body = ['<text x="0" y="14" fill="#111">Landis &amp; Koch (1977) agreement bands:</text>']
    for i, (colour, name) in enumerate(items):
        x, y = (i % 4) * 210, 24 + (i // 4) * 20
        body.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{colour}"/>'
                    f'<text x="{x + 17}" y="{y + 10}" fill="#111">{esc(name)}</text>')
    x, y = 3 * 210, 24 + 20  # the slot after the last band
    body.append(f'<path d="M{x} {y + 12} L{x + 6} {y + 1} L{x + 12} {y + 12} Z" fill="#e08214"/>'
                f'<text x="{x + 17}" y="{y + 10}" fill="#111">flagged (see the tables)</text>')
    return _svg(880, 24 + 2 * 20, body, "Legend")


def heatmap(row_labels: Sequence[str], col_labels: Sequence[str], cells: Sequence[Sequence[HeatCell | None]], *,
            title: str, cell: int = 44, label_w: int = 150) -> str:
    """A grid of coloured cells. ``cells[i][j]`` is None (blank) or a :class:`HeatCell`."""
    top = 90
    # Rotated column labels lean right, past the last column: leave room for them.
    width, height = label_w + cell * len(col_labels) + 80, top + cell * len(row_labels) + 10
    body = []
    for j, label in enumerate(col_labels):
        x = label_w + j * cell + cell / 2
        body.append(f'<text x="{x:.1f}" y="{top - 6}" transform="rotate(-45 {x:.1f} {top - 6})" fill="#111">'
                    f"{esc(shorten(label, 16))}</text>")
    for i, label in enumerate(row_labels):
        y = top + i * cell + cell / 2 + 4
        body.append(f'<text x="{label_w - 6}" y="{y:.1f}" text-anchor="end" fill="#111">'
                    f'{esc(shorten(label, 20))}</text>')
        for j, item in enumerate(cells[i]):
            if item is None:
                continue
            x0, y0 = label_w + j * cell, top + i * cell
            body.append(f'<g><title>{esc(item["tooltip"])}</title>'
                        f'<rect x="{x0}" y="{y0}" width="{cell - 2}" height="{cell - 2}" fill="{item["fill"]}"/>'
                        f'<text x="{x0 + cell / 2 - 1:.1f}" y="{y0 + cell / 2 + 3:.1f}" text-anchor="middle" '
                        f'font-size="11" fill="{_ink(item["fill"])}">{esc(item["text"])}</text></g>')
    return _svg(width, height, body, title)


def _ink(fill: str) -> str:
    """Black or white text, whichever reads better on the fill colour."""
    r, g, b = (int(fill[i : i + 2], 16) for i in (1, 3, 5))
    return "#111" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "#fff"


def sequential(share: float) -> str:
    """White to purple for a share in [0, 1] (co-confusion rate relative to the largest)."""
    share = min(max(share, 0.0), 1.0)
    start, end = (255, 255, 255), (84, 39, 136)
    r, g, b = (round(s + (e - s) * share) for s, e in zip(start, end))
    return f"#{r:02x}{g:02x}{b:02x}"
