"""A site plan as a Gantt chart: one standalone SVG for the page and the PDF alike.

The chart is drawn on the server so that a page and its PDF (WeasyPrint) show the same
picture and no charting script is needed. It carries no ``style`` attribute, no script and no
event handler, only presentation attributes (``fill``, ``stroke``, ``font-size``), so it holds
under the application's strict Content-Security-Policy; every text is escaped.

Batches take their product's colour from a fixed palette that colour-blind readers can tell
apart (Paul Tol's "muted" scheme). A product's colour is the one a hash of its name picks,
unless a product of the same plan that sorts before it holds that colour already: then it
takes the next free one. Every zoom, page and PDF of one plan therefore colours a product
alike, and no two products share a colour until a plan has more products than the palette.
Changeovers and cleaning are hatched grey; downtime, maintenance and breakdowns hatched red.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from html import escape

__all__ = ["BAR_KINDS", "PALETTE", "ZOOMS", "Bar", "product_colours", "render_gantt"]

BAR_KINDS = frozenset({"batch", "changeover", "cleaning", "downtime", "maintenance", "breakdown"})
ZOOMS = ("week", "month", "quarter")
"""Tick spacing of the time axis: a day, a week (from Monday) or a month (from the 1st)."""

PALETTE = (
    ("#332288", "#ffffff"),
    ("#88ccee", "#1d2733"),
    ("#44aa99", "#1d2733"),
    ("#117733", "#ffffff"),
    ("#999933", "#1d2733"),
    ("#ddcc77", "#1d2733"),
    ("#cc6677", "#1d2733"),
    ("#882255", "#ffffff"),
    ("#aa4499", "#ffffff"),
)
"""(fill, text colour) pairs: Paul Tol's muted scheme, readable with any colour vision."""

LABEL_WIDTH = 168
AXIS_HEIGHT = 44
ROW_HEIGHT = 28
BAR_INSET = 4
LEGEND_ROW = 22
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif"
FONT_SIZE = 11
CHAR_WIDTH = 6.4
"""Average advance of an 11 px sans-serif character, to fit labels without measuring text."""
MIN_TICK_LABEL_GAP = 56
INK, MUTED, GRID, SHADE, TODAY = "#1d2733", "#5d6b7a", "#dde3ea", "#f3f6f9", "#b3261e"
HATCHES = {
    "changeover": ("grey", "#eef0f2", "#8a96a3"),
    "cleaning": ("grey", "#eef0f2", "#8a96a3"),
    "downtime": ("red", "#fbe4e2", "#b3261e"),
    "maintenance": ("red", "#fbe4e2", "#b3261e"),
    "breakdown": ("red", "#fbe4e2", "#b3261e"),
}
HATCH_LEGEND = {"grey": "Changeover / cleaning", "red": "Downtime / maintenance"}
SAFE_HREF_STARTS = ("/", "#", "https://", "http://")
ID_PREFIX = re.compile(r"[A-Za-z][\w-]*")


@dataclass(frozen=True)
class Bar:
    """One block on a row: a batch (coloured by ``colour_key``, its product) or a stop.

    ``title`` is the hover text; ``href``, when given, makes the bar a link (a path of this
    application or an http(s) address).
    """

    row_id: object
    start: dt.datetime
    end: dt.datetime
    kind: str
    label: str
    colour_key: str
    title: str
    href: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in BAR_KINDS:
            raise ValueError(f"kind: {self.kind!r} is not one of {', '.join(sorted(BAR_KINDS))}")
        if self.end < self.start:
            raise ValueError(f"end: {self.end} is before start {self.start} ({self.label!r})")
        if self.href is not None and not self.href.startswith(SAFE_HREF_STARTS):
            raise ValueError(f"href: {self.href!r} is neither a path nor an http(s) address")


def product_colours(keys: Iterable[str]) -> dict[str, tuple[str, str]]:
    """The (fill, text) colours of a plan's products: a product's hashed colour, or the next
    one free when a product sorting before it holds that one."""
    taken: dict[int, str] = {}
    colours = {}
    for key in sorted(set(keys)):
        slot = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") % len(PALETTE)
        if len(taken) < len(PALETTE):
            while slot in taken:
                slot = (slot + 1) % len(PALETTE)
        taken.setdefault(slot, key)
        colours[key] = PALETTE[slot]
    return colours


def _ticks(start: dt.datetime, end: dt.datetime, zoom: str) -> list[tuple[dt.datetime, str]]:
    """Midnights (week), Mondays (month) or firsts of the month (quarter) inside the window."""
    day = dt.datetime.combine(start.date(), dt.time(), tzinfo=start.tzinfo)
    if zoom == "week":
        step, first = dt.timedelta(days=1), day
    elif zoom == "month":
        step, first = dt.timedelta(weeks=1), day - dt.timedelta(days=day.weekday())
    else:
        first, step = day.replace(day=1), dt.timedelta(0)
    ticks = []
    moment = first
    while moment <= end:
        if moment >= start:
            if zoom == "week":
                text = f"{moment:%a} {moment.day}"
            elif zoom == "month":
                text = f"{moment.day} {moment:%b}"
            else:
                text = f"{moment:%b %Y}"
            ticks.append((moment, text))
        if step:
            moment += step
        else:
            year, month = divmod(moment.month, 12)
            moment = moment.replace(year=moment.year + year, month=month + 1)
    return ticks


def _fitted(text: str, width: float) -> str:
    """``text`` shortened with an ellipsis to fit ``width`` px, or '' when too little fits."""
    room = int((width - 2 * BAR_INSET) / CHAR_WIDTH)
    if len(text) <= room:
        return text
    return text[: room - 1] + "…" if room >= 4 else ""


def _text(x: float, y: float, content: str, **attributes: object) -> str:
    """A text element; ``text_anchor`` is written ``text-anchor``, ``class_`` ``class``."""
    extra = "".join(
        f' {name.rstrip("_").replace("_", "-")}="{escape(str(value))}"'
        for name, value in attributes.items()
    )
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(content)}</text>'


def _patterns(prefix: str) -> str:
    """Diagonal hatches, as patterns the bars fill with (no CSS needed)."""
    defs = []
    for name, background, ink in set(HATCHES.values()):
        defs.append(
            f'<pattern id="{prefix}-hatch-{name}" width="6" height="6" '
            'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
            f'<rect width="6" height="6" fill="{background}"/>'
            f'<line x1="0" y1="0" x2="0" y2="6" stroke="{ink}" stroke-width="2"/></pattern>'
        )
    return "<defs>" + "".join(sorted(defs)) + "</defs>"


def render_gantt(
    rows: Sequence[tuple[object, str]],
    bars: Iterable[Bar],
    *,
    start: dt.datetime,
    end: dt.datetime,
    today: dt.datetime | None = None,
    zoom: str = "month",
    width: int = 1200,
    title: str = "Site plan",
    id_prefix: str = "gantt",
) -> str:
    """The plan of ``rows`` (``(row_id, label)``, top to bottom) from ``start`` to ``end`` as SVG.

    Bars are clipped to the window and those wholly outside it left out; a bar on a row that
    is not in ``rows`` is an error. ``today`` draws a line when it falls in the window.
    ``id_prefix`` keeps the ids of the hatch patterns apart when a page holds two charts.
    """
    if zoom not in ZOOMS:
        raise ValueError(f"zoom: {zoom!r} is not one of {', '.join(ZOOMS)}")
    if end <= start:
        raise ValueError(f"end: {end} is not after start {start}")
    if not ID_PREFIX.fullmatch(id_prefix):
        raise ValueError(
            f"id_prefix: {id_prefix!r} is not a letter followed by letters, digits, - or _"
        )
    plot_left, plot_width = LABEL_WIDTH, width - LABEL_WIDTH - 8
    if plot_width < 100:
        raise ValueError(
            f"width: {width} px leaves no room for the plan (at least {LABEL_WIDTH + 108})"
        )
    seconds = (end - start).total_seconds()
    scale = plot_width / seconds

    def x_of(moment: dt.datetime) -> float:
        return plot_left + (moment - start).total_seconds() * scale

    plan = list(bars)
    colours = product_colours(bar.colour_key for bar in plan if bar.kind == "batch")
    row_index = {row_id: index for index, (row_id, _) in enumerate(rows)}
    plot_top = AXIS_HEIGHT
    plot_bottom = plot_top + ROW_HEIGHT * max(len(rows), 1)
    parts: list[str] = []
    shown = 0
    products: dict[str, str] = {}
    hatches: set[str] = set()
    for bar in plan:
        index = row_index.get(bar.row_id)
        if index is None:
            raise ValueError(f"row_id: bar {bar.label!r} is on row {bar.row_id!r}, not in rows")
        if bar.end <= start or bar.start >= end:
            continue
        left = x_of(max(bar.start, start))
        right = x_of(min(bar.end, end))
        top = plot_top + index * ROW_HEIGHT + BAR_INSET
        height = ROW_HEIGHT - 2 * BAR_INSET
        if bar.kind == "batch":
            fill, ink = colours[bar.colour_key]
            products[bar.colour_key] = fill
            stroke = "none"
        else:
            hatch, _, ink = HATCHES[bar.kind]
            hatches.add(hatch)
            fill, stroke = f"url(#{id_prefix}-hatch-{hatch})", ink
            ink = INK
        bar_width = max(right - left, 1.0)
        shape = (
            f'<rect class="bar {bar.kind}" x="{left:.2f}" y="{top}" width="{bar_width:.2f}" '
            f'height="{height}" rx="2" fill="{fill}" stroke="{stroke}"/>'
        )
        label = _fitted(bar.label, bar_width)
        if label:
            shape += _text(left + BAR_INSET, top + height / 2 + 4, label, fill=ink)
        body = f"<title>{escape(bar.title)}</title>{shape}"
        if bar.href is not None:
            body = f'<a href="{escape(bar.href)}">{body}</a>'
        parts.append(f'<g class="item">{body}</g>')
        shown += 1

    legend_items = [(fill, key) for key, fill in sorted(products.items())] + [
        (f"url(#{id_prefix}-hatch-{name})", HATCH_LEGEND[name]) for name in sorted(hatches)
    ]
    legend, legend_height = _legend(legend_items, plot_bottom + 14, width)
    height = plot_bottom + 14 + legend_height

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" class="gantt" '
        f'aria-labelledby="{id_prefix}-title {id_prefix}-desc" font-family="{escape(FONT)}" '
        f'font-size="{FONT_SIZE}">',
        f'<title id="{id_prefix}-title">{escape(title)}</title>',
        f'<desc id="{id_prefix}-desc">{escape(_description(rows, shown, start, end))}</desc>',
        _patterns(id_prefix),
    ]
    for index, (_, label) in enumerate(rows):
        top = plot_top + index * ROW_HEIGHT
        if index % 2:
            out.append(
                f'<rect class="shade" x="0" y="{top}" width="{width}" height="{ROW_HEIGHT}" '
                f'fill="{SHADE}"/>'
            )
        fitted = _fitted(label, LABEL_WIDTH - 4)
        row_label = _text(8, top + ROW_HEIGHT / 2 + 4, fitted, fill=INK, class_="row-label")
        if fitted != label:
            row_label = f"<g><title>{escape(label)}</title>{row_label}</g>"
        out.append(row_label)
    out.append(_axis(start, end, zoom, x_of, plot_bottom))
    if not rows or shown == 0:
        message = "No suites to plan" if not rows else "Nothing planned in this window"
        middle = plot_left + plot_width / 2
        out.append(
            _text(
                middle,
                plot_top + ROW_HEIGHT / 2 + 4,
                message,
                fill=MUTED,
                text_anchor="middle",
                class_="empty",
            )
        )
    out.extend(parts)
    if today is not None and start <= today <= end:
        x = x_of(today)
        near_end = x + 48 > width
        label = _text(
            x - 3 if near_end else x + 3,
            12,
            "Today",
            fill=TODAY,
            font_weight="600",
            text_anchor="end" if near_end else "start",
        )
        out.append(
            f'<g class="today"><line x1="{x:.2f}" y1="4" x2="{x:.2f}" '
            f'y2="{plot_bottom}" stroke="{TODAY}" stroke-width="1.5"/>{label}</g>'
        )
    out.append(legend)
    out.append("</svg>")
    return "".join(out)


def _axis(
    start: dt.datetime,
    end: dt.datetime,
    zoom: str,
    x_of: Callable[[dt.datetime], float],
    plot_bottom: float,
) -> str:
    """Grid lines at every tick, labels on as many as fit side by side."""
    ticks = _ticks(start, end, zoom)
    parts = [
        f'<line x1="{LABEL_WIDTH}" y1="{AXIS_HEIGHT}" x2="{x_of(end):.2f}" y2="{AXIS_HEIGHT}" '
        f'stroke="{MUTED}"/>'
    ]
    last_label = float("-inf")
    for moment, text in ticks:
        x = x_of(moment)
        parts.append(
            f'<line class="tick" x1="{x:.2f}" y1="{AXIS_HEIGHT - 4}" x2="{x:.2f}" '
            f'y2="{plot_bottom}" stroke="{GRID}"/>'
        )
        if x - last_label >= MIN_TICK_LABEL_GAP and x + len(text) * CHAR_WIDTH <= x_of(end) + 4:
            parts.append(_text(x + 3, AXIS_HEIGHT - 8, text, fill=MUTED, class_="tick-label"))
            last_label = x
    return '<g class="axis">' + "".join(parts) + "</g>"


def _legend(items: list[tuple[str, str]], top: float, width: int) -> tuple[str, int]:
    """Swatches and names in lines as wide as the chart; its markup and height."""
    if not items:
        return "", 0
    parts, x, y = [], float(LABEL_WIDTH), top
    for fill, name in items:
        item_width = 14 + 6 + len(name) * CHAR_WIDTH + 18
        if x + item_width > width and x > LABEL_WIDTH:
            x, y = float(LABEL_WIDTH), y + LEGEND_ROW
        parts.append(
            f'<rect x="{x:.1f}" y="{y}" width="14" height="12" rx="2" fill="{fill}" '
            f'stroke="{MUTED}" stroke-width="0.5"/>' + _text(x + 20, y + 10, name, fill=INK)
        )
        x += item_width
    markup = f'<g class="legend">{"".join(parts)}</g>'
    return markup, int(y - top) + LEGEND_ROW


def _description(
    rows: Sequence[tuple[object, str]], shown: int, start: dt.datetime, end: dt.datetime
) -> str:
    return (
        f"{shown} planned item{'s' if shown != 1 else ''} on {len(rows)} "
        f"suite{'s' if len(rows) != 1 else ''} from {start:%d %b %Y} to {end:%d %b %Y}"
    )
