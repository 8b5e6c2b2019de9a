"""A published 12-month plan for every demo site: campaigns of its customers' products.

Each site runs three to five products it is qualified for, in campaigns, at about 70 % of its
bottleneck stage, with a week of planned maintenance per suite. The plan is built by the
planning engine's constructive scheduler and passes the independent checker before it is
published, so capable-to-promise starts from a plan that holds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from opencdmo.engines.planning.result import Result, Sense, SolverInfo, SolveStatus
from opencdmo.engines.planning.schedule.checker import check_schedule_solution
from opencdmo.engines.planning.schedule.evaluation import evaluate_schedule
from opencdmo.engines.planning.schedule.greedy import greedy_schedule
from opencdmo.engines.planning.schedule.reader import parse_schedule
from opencdmo.engines.planning.schedule.solution import ScheduleSolution
from opencdmo.network.choices import Modality
from opencdmo.network.models import Site
from opencdmo.scheduling.resources import (
    CHANGEOVER_COST_USD,
    CHANGEOVER_H,
    CLEANING_H,
    DAY,
    Process,
    process_for,
    site_units,
)

HORIZON_H = 400 * DAY
LOAD = 0.6
MAX_LOTS = 60
SCALES = (15000.0, 5000.0, 2000.0, 1000.0, 500.0, 200.0)


@dataclass(frozen=True)
class DemoPlan:
    """The documents of a site's first published plan and who its lots belong to."""

    time_zero: datetime
    instance: dict[str, Any]
    result: dict[str, Any]
    lots: dict[str, str]
    """Lot → product."""


def plan_start(today: datetime | None = None) -> datetime:
    """Hour 0 of the demo plans: midnight UTC four weeks ago, so some batches have started."""
    now = today or datetime.now(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight - timedelta(days=28)


def demo_plan(site: Site, time_zero: datetime, seed: int) -> DemoPlan | None:
    """The site's plan, or ``None`` when it runs nothing the demo plans (no process fits)."""
    rng = random.Random(seed)
    units = site_units(site)
    choices = _products(units, rng)
    if not choices:
        return None
    suites = []
    for index, unit in enumerate(units):
        suite: dict[str, Any] = {"name": unit.name, "site": site.name}
        if unit.kind != "seed train":
            start = (60 + 37 * (index % 7)) * DAY
            suite["downtimes"] = [
                {"start_h": start, "end_h": start + 7 * DAY, "reason": "planned maintenance"}
            ]
        suites.append(suite)
    products = [name for name, _ in choices]
    changeovers = [
        {
            "from_product": a,
            "to_product": b,
            "duration_h": CHANGEOVER_H,
            "cost": CHANGEOVER_COST_USD,
        }
        for a in products
        for b in products
        if a != b
    ] + [{"from_product": p, "to_product": p, "duration_h": CLEANING_H} for p in products]
    lots_per_year = min(MAX_LOTS, int(LOAD * min(_capacity(process) for _, process in choices)))
    while lots_per_year > 0:
        plan = _attempt(site, time_zero, choices, suites, changeovers, lots_per_year)
        if plan is not None:
            return plan
        lots_per_year = lots_per_year * 4 // 5
    return None


def _attempt(
    site: Site,
    time_zero: datetime,
    choices: list[tuple[str, Process]],
    suites: list[dict[str, Any]],
    changeovers: list[dict[str, Any]],
    lots_per_year: int,
) -> DemoPlan | None:
    """The plan with ``lots_per_year`` lots, if the constructive scheduler places them all."""
    batches: list[dict[str, Any]] = []
    lots: dict[str, str] = {}
    spacing = 365 * DAY // max(1, lots_per_year)
    number = 0
    while number < lots_per_year:
        name, process = choices[(number // 4) % len(choices)]
        for _ in range(min(4, lots_per_year - number)):
            number += 1
            lot = f"{site.code.upper()}-{number:03d}"
            lots[lot] = name
            release = max(0, (number - 1) * spacing - 7 * DAY)
            chain = sum(min(d for _, d in s.options) + s.min_gap_h for s in process.stages)
            upstream = None
            for position, stage in enumerate(process.stages):
                item: dict[str, Any] = {
                    "id": f"{lot}-{stage.name}",
                    "product": name,
                    "options": [{"suite": s, "duration_h": d} for s, d in stage.options],
                    "release_h": release,
                }
                if upstream is not None:
                    item.update(upstream=upstream, min_gap_h=stage.min_gap_h)
                    if stage.max_hold_h is not None:
                        item["max_hold_h"] = stage.max_hold_h
                if position == len(process.stages) - 1:
                    item["due_h"] = release + chain + 21 * DAY
                batches.append(item)
                upstream = item["id"]
    instance = {
        "format": "opencdmo-schedule/1",
        "id": f"{site.code}-plan",
        "title": f"{site.name}: published plan",
        "money_unit": "USD",
        "horizon_h": HORIZON_H,
        "suites": suites,
        "products": [{"name": name} for name, _ in choices],
        "changeovers": changeovers,
        "batches": batches,
        "objective": {"levels": [[{"kind": "weighted_tardiness"}], [{"kind": "changeover_cost"}]]},
    }
    return constructed_plan(instance, time_zero, lots)


def _products(units: list[Any], rng: random.Random) -> list[tuple[str, Process]]:
    """Three to five customer products the site can run, each with its process."""
    modalities = sorted({m for u in units for m in u.modalities})
    found: list[tuple[str, Process]] = []
    for modality in modalities:
        for scale in SCALES:
            process = process_for(units, modality, scale)
            if process.capable:
                found.append((modality, process))
                break
    if not found:
        return []
    count = min(5, max(3, len(found)))
    labels = dict(Modality.choices)
    out = []
    for index in range(count):
        modality, process = found[index % len(found)]
        code = f"{rng.choice('ABCDEFGHJKMNPRSTVWXZ')}{rng.randint(100, 999)}"
        out.append((f"Client {code} ({labels.get(modality, modality)})", process))
    return out


def _capacity(process: Process) -> float:
    """Lots a year the process's tightest stage allows."""
    return min(len(s.options) * 365 * DAY / (s.options[0][1] + CLEANING_H) for s in process.stages)


def constructed_plan(
    instance: dict[str, Any], time_zero: datetime, lots: dict[str, str]
) -> DemoPlan | None:
    problem = parse_schedule(instance, source=instance["id"])
    placed = greedy_schedule(problem)
    if placed is None:
        return None
    terms, levels = evaluate_schedule(problem, placed)
    solution = ScheduleSolution(tuple(placed), terms, levels)
    report = check_schedule_solution(problem, solution, levels[0])
    if not report.ok:
        raise RuntimeError(f"{instance['id']}: {report.violations[0]}")
    result = Result(
        problem="schedule",
        instance_id=problem.id,
        status=SolveStatus.FEASIBLE,
        objective=levels[0],
        bound=None,
        gap=None,
        wall_s=0.0,
        solver=SolverInfo("opencdmo-construction", "1", 1, 0.0, 0),
        solution=solution,
        sense=Sense.MINIMISE,
    )
    return DemoPlan(time_zero, instance, result.document(), lots)
