"""Independent checker of suite schedules: every constraint re-verified, objective recomputed."""

from __future__ import annotations

import itertools
import math

from opencdmo.engines.planning.check_report import CheckReport, objective_matches
from opencdmo.engines.planning.schedule.evaluation import evaluate_schedule, suite_sequences
from opencdmo.engines.planning.schedule.problem import ScheduleProblem
from opencdmo.engines.planning.schedule.solution import ScheduledBatch, ScheduleSolution


def check_schedule_solution(
    problem: ScheduleProblem, solution: ScheduleSolution, objective: float | None = None
) -> CheckReport:
    """Verify a suite schedule against ``opencdmo-schedule/1`` and recompute its objective.

    Checks: every batch placed once on an eligible suite with its duration; release dates,
    deadlines and the horizon; frozen batches unmoved; no overlap and the changeover time
    between consecutive batches of a suite; no batch in a downtime; upstream gap and maximum
    hold; campaign lengths; shared resources within their capacity at every hour; objective
    terms and levels.

    Parameters
    ----------
    problem
        The instance.
    solution
        The schedule.
    objective
        The reported objective (first level), compared with the recomputed one if given.

    Returns
    -------
    CheckReport
        The recomputed first-level objective and every violation found.
    """
    violations: list[str] = []
    placed = {b.batch: b for b in solution.batches}
    if len(placed) != len(solution.batches) or set(placed) != set(problem.batch_by_id):
        violations.append("every batch must be placed exactly once")
    for batch in problem.batches:
        item = placed.get(batch.id)
        if item is None:
            continue
        where = f"batch {batch.id}"
        option = batch.option_on(item.suite)
        held_h = item.end_h - item.start_h
        if option is None:
            violations.append(f"{where}: suite {item.suite} is not eligible")
        elif option.max_duration_h is None and held_h != option.duration_h:
            violations.append(f"{where}: lasts {held_h} h, needs {option.duration_h} h")
        elif not option.duration_h <= held_h <= option.longest_h:
            violations.append(
                f"{where}: holds {item.suite} {held_h} h, outside "
                f"[{option.duration_h}, {option.longest_h}] h"
            )
        if item.product != batch.product:
            violations.append(f"{where}: product {item.product}, expected {batch.product}")
        if item.start_h < batch.release_h:
            violations.append(f"{where}: starts before its release at {batch.release_h} h")
        if batch.deadline_h is not None and item.end_h > batch.deadline_h:
            violations.append(f"{where}: ends after its deadline {batch.deadline_h} h")
        if item.end_h > problem.horizon_h:
            violations.append(f"{where}: ends after the horizon")
        previous = batch.previous
        if (
            batch.frozen
            and previous is not None
            and (item.suite, item.start_h) != (previous.suite, previous.start_h)
        ):
            violations.append(f"{where}: frozen batch was moved")
        if batch.upstream is not None and batch.upstream in placed:
            upstream_end = placed[batch.upstream].end_h
            if item.start_h < upstream_end + batch.min_gap_h:
                violations.append(
                    f"{where}: starts before upstream {batch.upstream} ends plus its gap"
                )
            if batch.max_hold_h is not None and item.start_h > upstream_end + batch.max_hold_h:
                violations.append(
                    f"{where}: upstream {batch.upstream} held longer than {batch.max_hold_h} h"
                )
    downtimes = {s.name: s.downtimes for s in problem.suites}
    for suite, sequence in suite_sequences(solution.batches).items():
        for item in sequence:
            for window in downtimes.get(suite, ()):
                if item.start_h < window.end_h and window.start_h < item.end_h:
                    violations.append(
                        f"batch {item.batch}: runs in the {window.reason} window "
                        f"[{window.start_h}, {window.end_h}) of {suite}"
                    )
        for first, second in itertools.pairwise(sequence):
            changeover_h = problem.changeover(suite, first.product, second.product)[0]
            if second.start_h < first.end_h + changeover_h:
                violations.append(
                    f"suite {suite}: {second.batch} starts before {first.batch} ends plus "
                    f"{changeover_h} h changeover"
                )
        run_product = None
        run_length = 0
        for item in [*sequence, None]:
            product = None if item is None else item.product
            if product == run_product:
                run_length += 1
                continue
            if run_product is not None:
                data = problem.product_by_name[run_product]
                too_long = (
                    data.campaign_max_batches is not None and run_length > data.campaign_max_batches
                )
                if run_length < data.campaign_min_batches or too_long:
                    violations.append(
                        f"suite {suite}: campaign of {run_length} {run_product} batch(es) outside "
                        f"[{data.campaign_min_batches}, {data.campaign_max_batches}]"
                    )
            run_product, run_length = product, 1
    violations += _resource_violations(problem, placed)
    terms, levels = evaluate_schedule(problem, solution.batches)
    for kind, value in terms.items():
        reported = solution.terms.get(kind, math.nan)
        if not math.isnan(reported) and not objective_matches(reported, value):
            violations.append(f"term {kind}: reported {reported:g}, recomputed {value:g}")
    if len(levels) != len(solution.levels) or not all(
        math.isnan(a) or objective_matches(a, b)
        for a, b in zip(solution.levels, levels, strict=False)
    ):
        violations.append(f"levels: reported {solution.levels}, recomputed {levels}")
    if objective is not None and not objective_matches(objective, levels[0]):
        violations.append(f"objective: reported {objective:g}, recomputed {levels[0]:g}")
    return CheckReport(objective=levels[0], violations=tuple(violations))


def _resource_violations(problem: ScheduleProblem, placed: dict[str, ScheduledBatch]) -> list[str]:
    """Each resource's load, summed over the batches holding it, against its capacity, at
    every hour where it changes."""
    spans: dict[str, list[tuple[int, int, int, str]]] = {r.name: [] for r in problem.resources}
    for batch in problem.batches:
        item = placed.get(batch.id)
        if item is None:
            continue
        for use in batch.uses:
            held_from, held_to = use.span_h(item.start_h, item.end_h)
            if held_to > held_from:
                spans[use.resource].append((held_from, held_to, use.amount, batch.id))
    violations = []
    for resource in problem.resources:
        held = spans[resource.name]
        changes: dict[int, int] = {}
        for held_from, held_to, amount, _ in held:
            changes[held_from] = changes.get(held_from, 0) + amount
            changes[held_to] = changes.get(held_to, 0) - amount
        load = 0
        for hour in sorted(changes):
            load += changes[hour]
            if load > resource.capacity:
                names = ", ".join(span[3] for span in held if span[0] <= hour < span[1])
                violations.append(
                    f"resource {resource.name}: {load} units held at {hour} h ({names}), "
                    f"capacity {resource.capacity}"
                )
    return violations
