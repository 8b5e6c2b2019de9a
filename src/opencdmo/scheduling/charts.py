"""Charts of plans and options, drawn from the documents by ``gantt.render_gantt``.

A plan's chart shows every batch on its unit, the changeover or cleaning before each batch
(from the instance's changeover table) and the units' downtimes. An option's timeline shows a
sponsor only its own request's batches, one row per site.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from opencdmo.scheduling.gantt import Bar, render_gantt

ZOOM_DAYS = {"week": 21, "month": 92, "quarter": 370}


def _changeovers(instance: dict[str, Any]) -> dict[tuple[str | None, str, str], int]:
    return {
        (c.get("suite"), c["from_product"], c["to_product"]): int(c["duration_h"])
        for c in instance.get("changeovers", [])
    }


def plan_bars(
    instance: dict[str, Any],
    result: dict[str, Any],
    time_zero: dt.datetime,
    *,
    href: str | None = None,
) -> list[Bar]:
    """Batches, changeovers, cleaning and downtimes of a plan as chart bars."""

    def at(hours: float) -> dt.datetime:
        return time_zero + dt.timedelta(hours=hours)

    table = _changeovers(instance)
    placed = ((result or {}).get("schedule") or {}).get("batches", [])
    by_suite: dict[str, list[dict[str, Any]]] = {}
    for item in placed:
        by_suite.setdefault(item["suite"], []).append(item)
    bars: list[Bar] = []
    for suite, items in by_suite.items():
        items.sort(key=lambda i: (i["start_h"], i["end_h"]))
        for item in items:
            lot = item["batch"].rpartition("-")[0]
            bars.append(
                Bar(
                    suite,
                    at(item["start_h"]),
                    at(item["end_h"]),
                    "batch",
                    lot or item["batch"],
                    item["product"],
                    f"{item['batch']} · {item['product']} · {at(item['start_h']):%Y-%m-%d %H:%M}"
                    f" → {at(item['end_h']):%Y-%m-%d %H:%M} UTC",
                    href,
                )
            )
        for first, second in itertools.pairwise(items):
            key = (first["product"], second["product"])
            hours = table.get((suite, *key), table.get((None, *key), 0))
            if hours:
                kind = "cleaning" if key[0] == key[1] else "changeover"
                start = first["end_h"]
                bars.append(
                    Bar(
                        suite,
                        at(start),
                        at(start + hours),
                        kind,
                        "",
                        kind,
                        f"{kind.title()} {first['product']} → {second['product']}: {hours} h",
                    )
                )
    for suite in instance.get("suites", []):
        for window in suite.get("downtimes", []):
            reason = window.get("reason") or "downtime"
            kind = "breakdown" if "breakdown" in reason.lower() else "maintenance"
            bars.append(
                Bar(
                    suite["name"],
                    at(window["start_h"]),
                    at(window["end_h"]),
                    kind,
                    reason,
                    kind,
                    f"{reason}: {at(window['start_h']):%Y-%m-%d} → {at(window['end_h']):%Y-%m-%d}",
                )
            )
    return bars


def window(zoom: str, start: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """The chart's time window: from a week before ``start`` (today) for the zoom's span."""
    now = start or timezone.now()
    begin = now.replace(hour=0, minute=0, second=0, microsecond=0) - dt.timedelta(days=7)
    return begin, begin + dt.timedelta(days=ZOOM_DAYS.get(zoom, 92))


def unit_label(name: str) -> str:
    """``"USP-1 Single-use 2,000 L / SUB-2000-01"`` → ``"USP-1 / SUB-2000-01"``: rows are narrow."""
    suite, _, unit = name.partition(" / ")
    return f"{suite.split(' ')[0]} / {unit}" if unit else name


def plan_chart(
    instance: dict[str, Any],
    result: dict[str, Any],
    time_zero: dt.datetime,
    *,
    zoom: str = "quarter",
    highlight: str | None = None,
    title: str = "Site plan",
) -> str:
    """The SVG chart of a plan; ``highlight`` (a lot prefix) labels those batches 'new'."""
    zoom = zoom if zoom in ZOOM_DAYS else "quarter"
    rows = [(s["name"], unit_label(s["name"])) for s in instance.get("suites", [])]
    bars = plan_bars(instance, result, time_zero)
    if highlight:
        bars = [
            Bar(b.row_id, b.start, b.end, b.kind, f"★ {b.label}", b.colour_key, b.title, b.href)
            if b.kind == "batch" and b.label.startswith(highlight)
            else b
            for b in bars
        ]
    start, end = window(zoom)
    return render_gantt(
        rows, bars, start=start, end=end, today=timezone.now(), zoom=zoom, title=title
    )


def option_timeline(options: Iterable[Any], request: Any) -> str:
    """One row per site that offered slots, with the request's batches only."""
    rows: list[tuple[object, str]] = []
    bars: list[Bar] = []
    for option in options:
        if not option.feasible or not option.batches:
            continue
        rows.append((option.pk, f"{option.rank or '–'}. {option.site.name}"))
        for batch in option.batches:
            for stage in batch["stages"]:
                start = dt.datetime.fromisoformat(stage["start"])
                end = dt.datetime.fromisoformat(stage["end"])
                bars.append(
                    Bar(
                        option.pk,
                        start,
                        end,
                        "batch",
                        f"{batch['number']} {stage['stage']}",
                        stage["stage"],
                        f"Batch {batch['number']}, {stage['stage']}: {start:%Y-%m-%d} → "
                        f"{end:%Y-%m-%d}",
                    )
                )
    if not bars:
        return ""
    first = min(b.start for b in bars)
    last = max(
        max(b.end for b in bars), dt.datetime.combine(request.need_by, dt.time(), tzinfo=dt.UTC)
    )
    begin = first.replace(hour=0, minute=0, second=0, microsecond=0) - dt.timedelta(days=3)
    span = (last - begin).days
    zoom = "week" if span <= 30 else "month" if span <= 200 else "quarter"
    return render_gantt(
        rows,
        bars,
        start=begin,
        end=last + dt.timedelta(days=3),
        today=timezone.now(),
        zoom=zoom,
        width=1100,
        title="Your batches at each site",
        id_prefix="options",
    )
