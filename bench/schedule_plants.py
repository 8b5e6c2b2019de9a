"""Generated fermentation plants with exact stage windows: how fast the suite scheduler finds
a checked schedule, and how close it gets to a lower bound, from 10 to 120 jobs.

A plant has fermenters (cleaned 3 h between fermentations), one operator crew busy for the
first 10 h of every fermentation, a pool of E-tanks held alongside each fermentation, harvest
tanks, two types of filter and buffer tanks. A job is an order of one product: three or
four fermentations, each followed by its harvest (the tank holds the broth 4 to 16 h),
filtration on a filter of the product's type and a buffer tank (held 8 to 24 h). Every stage
starts within ``window_h`` (0: exactly) of the end of the one before. The objective is the
makespan.

Run ``.venv/bin/python bench/schedule_plants.py`` (``--jobs 10 20 40``, ``--time-limit``,
``--threads``, ``--window``); each row: batches, seconds from the call to the first checked
schedule the solve reports (the chain construction) and its makespan, the best makespan within
the time limit and when it was reported, the lower bound (critical path, crew and suite loads)
and the gap to it, the status and whether the independent checker accepts the result.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import dataclass

from opencdmo.engines.planning import (
    Changeover,
    ObjectiveKind,
    ObjectiveTerm,
    ScheduleBatch,
    ScheduleProblem,
    ScheduleProduct,
    ScheduleSuite,
    SuiteOption,
    check_schedule_solution,
    solve,
)
from opencdmo.engines.planning.schedule.bound import first_level_bound
from opencdmo.engines.planning.schedule.problem import Resource, ResourceUse
from opencdmo.engines.progress import Progress

CLEANING_H = {"F": 3, "H": 2, "FA": 1, "FB": 1}
"""Cleaning between two batches of a suite type, whatever their products (h)."""
CREW_BUSY_H = 10
PRODUCTS = 8


@dataclass(frozen=True)
class Plant:
    """The equipment of a generated plant."""

    fermenters: int = 5
    harvest_tanks: int = 6
    filters_a: int = 3
    filters_b: int = 3
    buffer_tanks: int = 12
    e_tanks: int = 7
    crews: int = 1


def generate_plant(
    jobs: int, *, plant: Plant | None = None, window_h: int = 0, seed: int = 0
) -> ScheduleProblem:
    """A fermentation plant with ``jobs`` orders, deterministic given ``seed``.

    Parameters
    ----------
    jobs
        Orders of three or four fermentations each (about 14 batches per job).
    plant
        The equipment; default 5 fermenters, 6 harvest tanks, 3 + 3 filters, 12 buffer
        tanks (29 suites), 7 E-tanks and one crew.
    window_h
        Each stage starts between 0 and ``window_h`` hours after the one before ends.
    seed
        Seed of the pseudo-random generator.

    Returns
    -------
    ScheduleProblem
        The instance; its horizon holds every chain one after another.
    """
    plant = plant or Plant()
    rng = random.Random(seed)
    units = {
        "F": [f"F{n + 1}" for n in range(plant.fermenters)],
        "H": [f"HT{n + 1}" for n in range(plant.harvest_tanks)],
        "FA": [f"FA{n + 1}" for n in range(plant.filters_a)],
        "FB": [f"FB{n + 1}" for n in range(plant.filters_b)],
        "B": [f"BT{n + 1}" for n in range(plant.buffer_tanks)],
    }
    products = [ScheduleProduct(f"P{n + 1}") for n in range(PRODUCTS)]
    ferment_h = {p.name: rng.choice((36, 42, 48, 54)) for p in products}
    filter_h = {p.name: rng.choice((6, 8, 10)) for p in products}
    filter_type = {p.name: "FA" if n % 2 == 0 else "FB" for n, p in enumerate(products)}
    changeovers = [
        Changeover(a.name, b.name, hours, suite=suite)
        for kind, hours in CLEANING_H.items()
        for suite in units[kind]
        for a in products
        for b in products
    ]
    batches: list[ScheduleBatch] = []
    chain_h = 0
    crew = ResourceUse("crew", 1, CREW_BUSY_H)
    for job in range(jobs):
        product = rng.choice(products).name
        due = (job + 1) * 40 + rng.randrange(0, 200)
        for run in range(rng.choice((3, 4))):
            key = f"J{job + 1:03d}-{run + 1}"
            stages = (
                ("F", "F", ferment_h[product], None, (crew, ResourceUse("E-tanks"))),
                ("H", "H", 4, 16, ()),
                ("FI", filter_type[product], filter_h[product], None, ()),
                ("B", "B", 8, 24, ()),
            )
            upstream = None
            for name, kind, duration_h, longest_h, uses in stages:
                batch_id = f"{key}-{name}"
                batches.append(
                    ScheduleBatch(
                        batch_id,
                        product,
                        tuple(SuiteOption(u, duration_h, longest_h) for u in units[kind]),
                        due_h=due,
                        upstream=upstream,
                        max_hold_h=None if upstream is None else window_h,
                        uses=uses,
                    )
                )
                upstream = batch_id
            chain_h += ferment_h[product] + 16 + filter_h[product] + 24 + 4 * window_h + 3
    return ScheduleProblem(
        id=f"fermentation_plant_{jobs}jobs_w{window_h}_s{seed}",
        horizon_h=chain_h,
        suites=tuple(ScheduleSuite(name) for names in units.values() for name in names),
        products=tuple(products),
        batches=tuple(batches),
        changeovers=tuple(changeovers),
        objective=((ObjectiveTerm(ObjectiveKind.MAKESPAN),),),
        resources=(Resource("crew", plant.crews), Resource("E-tanks", plant.e_tanks)),
    )


@dataclass(frozen=True)
class Row:
    """One plant's figures."""

    jobs: int
    batches: int
    first_s: float
    first: float
    best: float
    best_s: float
    bound: float
    status: str
    checked: bool

    @property
    def gap(self) -> float:
        """Relative gap of the best makespan to the lower bound."""
        return (self.best - self.bound) / max(1.0, self.best)


def measure(jobs: int, time_limit: float, threads: int, window_h: int, seed: int) -> Row:
    """Solve one plant, noting when the first schedule (the chain construction, checked
    before it is reported) and the best one were reported; check the result."""
    problem = generate_plant(jobs, window_h=window_h, seed=seed)
    found: list[tuple[float, float]] = []
    started = time.perf_counter()

    def note(report: Progress) -> None:
        if report.objective is not None and (not found or report.objective < found[-1][1]):
            found.append((time.perf_counter() - started, report.objective))

    result = solve(problem, time_limit=time_limit, threads=threads, seed=seed, progress=note)
    checked = result.solution is not None and (
        check_schedule_solution(problem, result.solution, result.objective).ok
    )
    best = float("nan") if result.objective is None else result.objective
    first_s, first = found[0] if found else (float("nan"), float("nan"))
    best_s = next((at for at, value in found if value <= best), result.wall_s)
    bound = max(first_level_bound(problem), result.bound or 0.0)
    return Row(
        jobs, len(problem.batches), first_s, first, best, best_s, bound, result.status, checked
    )


def main(argv: list[str] | None = None) -> int:
    """Print the table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[10, 20, 40, 80, 120])
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--window", type=int, default=0, help="stage window width (h)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(
        f"{'jobs':>5} {'batches':>7} {'first s':>8} {'first':>7} {'best':>7} {'best s':>7} "
        f"{'bound':>7} {'gap':>7} {'status':>10} checked"
    )
    failed = False
    for jobs in args.jobs:
        row = measure(jobs, args.time_limit, args.threads, args.window, args.seed)
        failed = failed or not row.checked
        print(
            f"{row.jobs:>5} {row.batches:>7} {row.first_s:>8.2f} {row.first:>7.0f} "
            f"{row.best:>7.0f} {row.best_s:>7.1f} {row.bound:>7.0f} {row.gap:>7.2%} "
            f"{row.status:>10} {'yes' if row.checked else 'NO'}",
            flush=True,
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
