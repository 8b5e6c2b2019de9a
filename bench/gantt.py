"""Time to draw a year's site plan as a Gantt chart (not a test).

A plan of 15 suites over 12 months with about 400 bars (batches of eight products in
campaigns of 3–5-week runs, a changeover between products, cleaning between batches, a maintenance window
per suite) is rendered at the month and quarter zooms; the best of ``--repeat`` runs is
printed in milliseconds with the size of the SVG. The page waits on this while the planner
does, so it should stay well under 50 ms.

    .venv/bin/python bench/gantt.py [--repeat 20]

Measured in December on the shared two-core machine (load 5): 498 bars drawn in 6.0 ms at
the month zoom and 5.6 ms at the quarter zoom, about 100 KiB of SVG; 14 ms with a browser
test running beside it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time

from opencdmo.scheduling.gantt import Bar, render_gantt

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
END = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
PRODUCTS = [f"mAb-{letter}" for letter in "ABCDEFGH"]


def year_plan(suites: int = 15, seed: int = 7) -> tuple[list[tuple[object, str]], list[Bar]]:
    """Rows and bars of a busy year: campaigns of 2–4 batches of 3–5 weeks each."""
    rng = random.Random(seed)
    rows: list[tuple[object, str]] = [
        (n, f"Suite {n + 1:02d} – 2,000 L SUB") for n in range(suites)
    ]
    bars: list[Bar] = []
    for row_id, _ in rows:
        moment = START + dt.timedelta(hours=rng.randrange(0, 96))
        product = rng.choice(PRODUCTS)
        service = START + dt.timedelta(days=rng.randrange(100, 250))
        bars.append(
            Bar(
                row_id,
                service,
                service + dt.timedelta(days=5),
                "maintenance",
                "Maintenance",
                "",
                "Planned maintenance, 5 days",
            )
        )
        while moment < END:
            for number in range(rng.randrange(2, 5)):
                finish = moment + dt.timedelta(days=rng.randrange(21, 36))
                bars.append(
                    Bar(
                        row_id,
                        moment,
                        finish,
                        "batch",
                        f"{product} #{number + 1}",
                        product,
                        f"{product} batch {number + 1}",
                        href=f"/batches/{len(bars)}/",
                    )
                )
                cleaned = finish + dt.timedelta(hours=12)
                bars.append(Bar(row_id, finish, cleaned, "cleaning", "", "", "Cleaning, 12 h"))
                moment = cleaned
            following = rng.choice(PRODUCTS)
            changed = moment + dt.timedelta(days=2)
            bars.append(
                Bar(
                    row_id,
                    moment,
                    changed,
                    "changeover",
                    "Changeover",
                    "",
                    f"Changeover {product} → {following}, 2 days",
                )
            )
            moment, product = changed, following
    return rows, bars


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    rows, bars = year_plan()
    today = START + dt.timedelta(days=150)
    print(f"{len(rows)} suites, {len(bars)} bars, 12 months")
    for zoom in ("month", "quarter"):
        best = float("inf")
        for _ in range(args.repeat):
            started = time.perf_counter()
            svg = render_gantt(rows, bars, start=START, end=END, today=today, zoom=zoom)
            best = min(best, time.perf_counter() - started)
        print(f"zoom {zoom:<8} {best * 1000:6.1f} ms  ({len(svg) / 1024:.0f} KiB of SVG)")


if __name__ == "__main__":
    main()
