"""The Gantt chart of a site plan: valid standalone SVG, time drawn to scale, text escaped."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from opencdmo.scheduling.gantt import LABEL_WIDTH, PALETTE, Bar, product_colours, render_gantt

SVG = "{http://www.w3.org/2000/svg}"
START = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
END = START + dt.timedelta(days=28)
WIDTH = 1200
PLOT_WIDTH = WIDTH - LABEL_WIDTH - 8
ROWS = [(1, "USP-1"), (2, "DSP-1")]


def _at(days: float) -> dt.datetime:
    return START + dt.timedelta(days=days)


def _batch(row: int, start: float, end: float, product: str = "mAb-A", **extra: str) -> Bar:
    fields = {"label": f"{product} batch", "title": f"{product} batch", **extra}
    return Bar(row, _at(start), _at(end), "batch", colour_key=product, **fields)


def _chart(bars: list[Bar], **options: Any) -> ET.Element:
    chosen = {"start": START, "end": END, "width": WIDTH, **options}
    return ET.fromstring(render_gantt(ROWS, bars, **chosen))


def _bars(svg: ET.Element) -> list[ET.Element]:
    return [r for r in svg.iter(f"{SVG}rect") if "bar" in r.get("class", "").split()]


def _x(days: float) -> float:
    return LABEL_WIDTH + PLOT_WIDTH * days / 28


def test_chart_is_standalone_accessible_svg() -> None:
    """The root is namespaced SVG with role img, a title and a description it is labelled by."""
    svg = _chart([_batch(1, 1, 3)], title="Basel plan")
    assert svg.tag == f"{SVG}svg"
    assert svg.get("role") == "img"
    assert svg.find(f"{SVG}title").text == "Basel plan"
    assert "1 planned item on 2 suites" in svg.find(f"{SVG}desc").text
    assert svg.get("aria-labelledby") == "gantt-title gantt-desc"


def test_bar_geometry_is_proportional_to_time() -> None:
    """A batch from day 7 to day 14 of a 28-day window spans its quarter of the plot."""
    svg = _chart([_batch(2, 7, 14), _batch(1, 0, 1)])
    bar, on_first_row = _bars(svg)
    assert float(bar.get("x")) == pytest.approx(_x(7), abs=0.01)
    assert float(bar.get("width")) == pytest.approx(PLOT_WIDTH / 4, abs=0.01)
    assert float(bar.get("y")) - float(on_first_row.get("y")) == 28  # one row lower


def test_bars_are_clipped_to_the_window_and_outside_ones_left_out() -> None:
    """A bar across the start begins at the plot's edge, one across the end stops at it."""
    svg = _chart([_batch(1, -5, 2), _batch(1, 26, 40), _batch(2, 30, 35), _batch(2, -9, -1)])
    first, last = _bars(svg)
    assert float(first.get("x")) == pytest.approx(LABEL_WIDTH)
    assert float(first.get("width")) == pytest.approx(_x(2) - LABEL_WIDTH, abs=0.01)
    assert float(last.get("x")) + float(last.get("width")) == pytest.approx(
        LABEL_WIDTH + PLOT_WIDTH, abs=0.01
    )
    assert "2 planned items" in svg.find(f"{SVG}desc").text


def test_text_is_escaped_everywhere() -> None:
    """A label, title, row name and link with markup stay text; nothing becomes an element."""
    nasty = '<script>&"'
    bar = _batch(1, 1, 20, product=nasty, href='/batches/1/?a=1&b="2"')
    svg_text = render_gantt([(1, nasty)], [bar], start=START, end=END, title=nasty)
    svg = ET.fromstring(svg_text)
    assert "<script" not in svg_text
    assert not list(svg.iter(f"{SVG}script"))
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert f"{nasty} batch" in texts  # the bar's label
    assert nasty in texts  # the row label and the legend
    titles = [t.text for t in svg.iter(f"{SVG}title")]
    assert titles[0] == nasty
    assert f"{nasty} batch" in titles
    (link,) = svg.iter(f"{SVG}a")
    assert link.get("href") == '/batches/1/?a=1&b="2"'


def test_no_style_attributes_or_event_handlers() -> None:
    """Only presentation attributes, so the chart holds under a CSP without 'unsafe-inline'."""
    kinds = ["changeover", "cleaning", "downtime", "maintenance", "breakdown"]
    stops = [Bar(1, _at(n), _at(n + 1), kind, kind, "", kind) for n, kind in enumerate(kinds)]
    svg = _chart([_batch(2, 0, 9, href="/b/1/"), *stops], today=_at(3))
    for element in svg.iter():
        assert "style" not in element.attrib
        assert not [name for name in element.attrib if name.lower().startswith("on")]
    assert not list(svg.iter(f"{SVG}style"))


def test_a_script_link_is_refused() -> None:
    """A link must be a path or an http(s) address: a javascript: URL never reaches the page."""
    with pytest.raises(ValueError, match="href"):
        _batch(1, 0, 1, href="javascript:alert(1)")


def test_stops_are_hatched_and_batches_coloured_from_the_palette() -> None:
    """Changeovers and cleaning share the grey hatch, downtime the red one; a batch is solid."""
    svg = _chart(
        [
            _batch(1, 0, 5, product="mAb-A"),
            Bar(1, _at(5), _at(6), "changeover", "", "", "Changeover"),
            Bar(2, _at(5), _at(6), "cleaning", "", "", "Cleaning"),
            Bar(2, _at(8), _at(10), "downtime", "Shutdown", "", "Shutdown"),
        ]
    )
    fills = {bar.get("class"): bar.get("fill") for bar in _bars(svg)}
    assert fills["bar batch"] == product_colours(["mAb-A"])["mAb-A"][0]
    assert fills["bar changeover"] == fills["bar cleaning"] == "url(#gantt-hatch-grey)"
    assert fills["bar downtime"] == "url(#gantt-hatch-red)"
    pattern_ids = {p.get("id") for p in svg.iter(f"{SVG}pattern")}
    assert {"gantt-hatch-grey", "gantt-hatch-red"} <= pattern_ids


def test_palette_colours_are_stable_and_distinct() -> None:
    """A product keeps its colour whatever the order or zoom; a plan's products never share one
    while the palette lasts."""
    products = [f"Product {n}" for n in range(len(PALETTE))]
    colours = product_colours(products)
    assert product_colours(reversed(products)) == colours
    assert len({fill for fill, _ in colours.values()}) == len(PALETTE)
    plan = [_batch(1 + n % 2, n, n + 1, product=p) for n, p in enumerate(products)]
    month = [bar.get("fill") for bar in _bars(_chart(plan, zoom="month"))]
    week = [bar.get("fill") for bar in _bars(_chart(plan, zoom="week", end=_at(2)))]
    assert month == [colours[p][0] for p in products]
    assert week == month[:2]


def test_legend_names_each_product_once() -> None:
    """One swatch per product shown, sorted, then the hatches present."""
    svg = _chart([_batch(1, 0, 2, "mAb-B"), _batch(2, 0, 2, "mAb-A"), _batch(1, 3, 4, "mAb-B")])
    legend = next(g for g in svg.iter(f"{SVG}g") if g.get("class") == "legend")
    assert [t.text for t in legend.iter(f"{SVG}text")] == ["mAb-A", "mAb-B"]


def test_today_line_sits_at_its_time_and_only_inside_the_window() -> None:
    """Today on day 21 of 28 is three quarters across the plot; outside the window, no line."""
    svg = _chart([], today=_at(21))
    today = next(g for g in svg.iter(f"{SVG}g") if g.get("class") == "today")
    line = today.find(f"{SVG}line")
    assert float(line.get("x1")) == pytest.approx(_x(21), abs=0.01)
    later = _chart([], today=_at(40))
    assert not [g for g in later.iter(f"{SVG}g") if g.get("class") == "today"]


@pytest.mark.parametrize(
    ("zoom", "days", "first", "count"),
    [("week", 7, "Mon 2", 7), ("month", 28, "2 Mar", 4), ("quarter", 92, "Apr 2026", 3)],
)
def test_axis_ticks_follow_the_zoom(zoom: str, days: int, first: str, count: int) -> None:
    """Days at the week zoom, Mondays at the month zoom, firsts of the month at the quarter."""
    svg = _chart([], zoom=zoom, end=_at(days) - dt.timedelta(seconds=1))
    ticks = [t for t in svg.iter(f"{SVG}line") if t.get("class") == "tick"]
    labels = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "tick-label"]
    assert len(ticks) == count
    assert labels[0] == first


def test_rows_are_labelled_and_alternately_shaded() -> None:
    """Each suite's name sits on its row; every second row is shaded."""
    rows = [(n, f"Suite {n}") for n in range(5)]
    svg = ET.fromstring(render_gantt(rows, [], start=START, end=END))
    labels = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "row-label"]
    assert labels == [label for _, label in rows]
    assert len([r for r in svg.iter(f"{SVG}rect") if r.get("class") == "shade"]) == 2


def test_an_empty_plan_says_so() -> None:
    """No suites: a valid chart with its axis and a sentence instead of bars."""
    svg = ET.fromstring(render_gantt([], [], start=START, end=END))
    empty = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "empty"]
    assert empty == ["No suites to plan"]
    assert not _bars(svg)
    quiet = _chart([_batch(1, 40, 41)])
    assert [t.text for t in quiet.iter(f"{SVG}text") if t.get("class") == "empty"] == [
        "Nothing planned in this window"
    ]


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: Bar(1, _at(2), _at(1), "batch", "x", "p", "x"), "end"),
        (lambda: Bar(1, _at(1), _at(2), "holiday", "x", "p", "x"), "kind"),
        (lambda: render_gantt(ROWS, [_batch(9, 0, 1)], start=START, end=END), "row_id"),
        (lambda: render_gantt(ROWS, [], start=START, end=START), "end"),
        (lambda: render_gantt(ROWS, [], start=START, end=END, zoom="year"), "zoom"),
        (lambda: render_gantt(ROWS, [], start=START, end=END, id_prefix='x"y'), "id_prefix"),
    ],
)
def test_bad_input_names_the_field(call: object, field: str) -> None:
    """A reversed bar, an unknown kind or row, an empty window, a zoom or id prefix unknown or
    unsafe: ValueError naming the field."""
    assert callable(call)
    with pytest.raises(ValueError, match=f"^{field}:"):
        call()
