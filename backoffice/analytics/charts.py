"""Small inline SVG charts for the cruscotto: pure functions, no script, readable without colour.

Each chart is an `<svg role="img">` named by its `<title>` and described by its `<desc>`, and
every bar carries its value as text, so a screen reader or a printout loses nothing. Labels
are escaped: a chart may be put into a page as it is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from html import escape

from backoffice.analytics.schemas import Figures, FormFunnel

BAR_COLOUR = "#0b5394"
TEXT_COLOUR = "#1a1a1a"
FONT = 'font-family="sans-serif" font-size="12"'
Point = tuple[str, float | None]


def _number(value: float | None) -> str:
    """A value as an Italian reads it: 1234 → 1234, 0.25 → 0,25; None → n.d."""
    if value is None:
        return "n.d."
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".").replace(".", ",")


def _ident(kind: str, title: str, points: Sequence[Point]) -> str:
    digest = hashlib.sha1(repr((kind, title, list(points))).encode(), usedforsecurity=False).hexdigest()
    return f"chart-{digest[:10]}"


def _open(ident: str, width: int, height: int, title: str, desc: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-labelledby="{ident}-title {ident}-desc">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(desc)}</desc>',
    ]


def _described(desc: str | None, points: Sequence[Point]) -> str:
    listed = "; ".join(f"{label}: {_number(value)}" for label, value in points)
    return f"{desc}. {listed}" if desc else listed


def bar_chart(title: str, points: Sequence[Point], desc: str | None = None, height: int = 160) -> str:
    """Vertical bars, one per point (a day and its count); the value over each bar, the label
    under it. A None value (not available) draws no bar and says n.d."""
    bar, gap, top, bottom = 28, 8, 20, 36
    width = max(1, len(points)) * (bar + gap) + gap
    ident = _ident("bar", title, points)
    values = [value for _, value in points if value is not None]
    highest = max(values, default=0) or 1
    plot = height - top - bottom
    parts = _open(ident, width, height, title, _described(desc, points))
    for index, (label, value) in enumerate(points):
        x = gap + index * (bar + gap)
        size = 0 if value is None else round(plot * max(0.0, value) / highest)
        y = top + plot - size
        centre = x + bar / 2
        if size:
            parts.append(f'<rect x="{x}" y="{y}" width="{bar}" height="{size}" fill="{BAR_COLOUR}"/>')
        parts.append(
            f'<text x="{centre}" y="{y - 4}" text-anchor="middle" {FONT} fill="{TEXT_COLOUR}">'
            f"{escape(_number(value))}</text>"
        )
        parts.append(
            f'<text x="{centre}" y="{height - bottom + 16}" text-anchor="middle" {FONT} '
            f'fill="{TEXT_COLOUR}">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def horizontal_bars(
    title: str, points: Sequence[Point], desc: str | None = None, width: int = 480, label_width: int = 180
) -> str:
    """Horizontal bars, one per point (an intent and its count, a step and its drop-offs),
    the label on the left and the value after the bar."""
    row, top = 24, 8
    height = top * 2 + max(1, len(points)) * row
    ident = _ident("hbar", title, points)
    values = [value for _, value in points if value is not None]
    highest = max(values, default=0) or 1
    room = width - label_width - 60
    parts = _open(ident, width, height, title, _described(desc, points))
    for index, (label, value) in enumerate(points):
        y = top + index * row
        size = 0 if value is None else round(room * max(0.0, value) / highest)
        middle = y + row / 2 + 4
        parts.append(
            f'<text x="{label_width - 6}" y="{middle}" text-anchor="end" {FONT} fill="{TEXT_COLOUR}">'
            f"{escape(label)}</text>"
        )
        if size:
            parts.append(
                f'<rect x="{label_width}" y="{y + 4}" width="{size}" height="{row - 8}" fill="{BAR_COLOUR}"/>'
            )
        parts.append(
            f'<text x="{label_width + size + 6}" y="{middle}" {FONT} fill="{TEXT_COLOUR}">'
            f"{escape(_number(value))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


# --- the cruscotto's own charts, from its figures ---------------------------------------


def conversations_chart(result: Figures) -> str:
    """Conversations per day (day/month under each bar)."""
    points = [(f"{day.day.day}/{day.day.month}", _value(day.conversations)) for day in result.days]
    return bar_chart("Conversazioni al giorno", points, "Numero di conversazioni per giorno")


def intents_chart(result: Figures) -> str:
    """The most frequent intents, or an empty chart that says the history is not available."""
    points = [(each.intent, float(each.count)) for each in result.top_intents or ()]
    desc = "Richieste più frequenti" if result.top_intents is not None else "Dato non disponibile"
    return horizontal_bars("Richieste più frequenti", points, desc)


def drop_off_chart(funnel: FormFunnel) -> str:
    """How many runs of a form were left at each step."""
    points = [(step.step, float(step.dropped)) for step in funnel.steps]
    return horizontal_bars(f"Abbandoni per passo: {funnel.form}", points, "Abbandoni per passo del modulo")


def _value(count: int | None) -> float | None:
    return None if count is None else float(count)
