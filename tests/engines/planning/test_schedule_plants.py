"""Plants with exact stage windows, shared resources and variable holds: the chain
construction finds a checked schedule fast, CP-SAT and the checker agree on every rule, and
a chain that fits nowhere is named with its rule."""

from __future__ import annotations

import copy
import itertools
import time
from typing import Any

import pytest
from bench.schedule_plants import generate_plant

from opencdmo.engines.planning import (
    InstanceError,
    ObjectiveKind,
    ObjectiveTerm,
    ScheduleBatch,
    ScheduledBatch,
    ScheduleProblem,
    ScheduleProduct,
    ScheduleSuite,
    SolveStatus,
    SuiteOption,
    check_schedule_solution,
    parse_schedule,
    solve,
)
from opencdmo.engines.planning.schedule import solver as schedule_solver
from opencdmo.engines.planning.schedule.bound import first_level_bound
from opencdmo.engines.planning.schedule.decomposition import independent_parts
from opencdmo.engines.planning.schedule.evaluation import evaluate_schedule
from opencdmo.engines.planning.schedule.greedy import PrefixGreedy, chain_roots, greedy_schedule
from opencdmo.engines.planning.schedule.problem import Downtime, Resource, ResourceUse
from opencdmo.engines.planning.schedule.solution import ScheduleSolution
from opencdmo.engines.progress import Progress


def _checked(problem: ScheduleProblem, placed: list[ScheduledBatch]) -> ScheduleSolution:
    """``placed`` as a solution the independent checker accepts."""
    solution = ScheduleSolution(tuple(placed), *evaluate_schedule(problem, placed))
    report = check_schedule_solution(problem, solution)
    assert report.ok, report.violations[:5]
    return solution


@pytest.mark.parametrize("jobs", [40, 80])
def test_a_large_plant_with_exact_windows_gets_a_checked_schedule_within_seconds(
    jobs: int,
) -> None:
    """Fermenters with cleaning, one crew at every fermentation start, E-tanks, harvest tanks,
    filters and buffer tanks, every stage exactly at the end of the one before: the chain
    construction reports a checked schedule first, and the solve returns one in 3 s."""
    problem = generate_plant(jobs)
    assert len(problem.batches) > 12 * jobs
    reports: list[Progress] = []
    result = solve(problem, time_limit=3, threads=2, seed=0, progress=reports.append)
    assert result.solution is not None
    assert check_schedule_solution(problem, result.solution, result.objective).ok
    first = next(r for r in reports if r.objective is not None)
    assert first.message == "chain construction"
    assert result.objective is not None
    assert result.bound is not None
    assert first.objective is not None
    assert result.bound <= result.objective <= first.objective
    assert result.status in (SolveStatus.TIME_LIMIT, SolveStatus.OPTIMAL)


def test_the_construction_keeps_every_window_exact_and_the_crew_apart() -> None:
    """In the constructed schedule each stage starts when the one before ends, no two
    fermentations start within the crew's 10 h, and every hold lies within its range."""
    problem = generate_plant(10)
    placed = greedy_schedule(problem)
    assert placed is not None
    _checked(problem, placed)
    at = {item.batch: item for item in placed}
    for batch in problem.batches:
        if batch.upstream is not None:
            assert at[batch.id].start_h == at[batch.upstream].end_h
    starts = sorted(at[b.id].start_h for b in problem.batches if b.uses)
    assert all(b - a >= 10 for a, b in itertools.pairwise(starts))


def test_a_reordered_plan_resumed_midway_keeps_the_crew_apart() -> None:
    """The order search resumes a plan after its unchanged first chains: the resource loads
    it goes back to are those of that plan, so the new schedule still passes the checker."""
    problem = generate_plant(10)
    greedy = PrefixGreedy(problem)
    order = chain_roots(problem)
    assert greedy.schedule(order) is not None
    greedy.keep()
    moved = [*order[:5], order[-1], *order[5:-1]]
    placed = greedy.schedule(moved, unchanged=5)
    assert placed is not None
    _checked(problem, placed)


def test_makespan_bound_counts_the_busiest_resource() -> None:
    """Ten fermentations that each hold the only crew 10 h from their start end no earlier
    than 90 h plus the shortest run: the bound sees it, far above the critical path."""
    crew = ResourceUse("crew", 1, 10)
    problem = ScheduleProblem(
        "crew",
        500,
        tuple(ScheduleSuite(f"F{n}") for n in range(10)),
        (ScheduleProduct("P"),),
        tuple(
            ScheduleBatch(f"b{n}", "P", (SuiteOption(f"F{n}", 20),), uses=(crew,))
            for n in range(10)
        ),
        objective=((ObjectiveTerm(ObjectiveKind.MAKESPAN),),),
        resources=(Resource("crew", 1),),
    )
    assert first_level_bound(problem) == 110
    result = solve(problem, time_limit=10)
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == 110
    assert result.solution is not None
    assert check_schedule_solution(problem, result.solution, result.objective).ok


def _stretch_problem() -> ScheduleProblem:
    """A fermentation that must run [0, 10), a harvest tank that may hold 4 to 16 h, and a
    filter down until 20 h, each stage exactly at the end of the one before."""
    return ScheduleProblem(
        "stretch",
        100,
        (
            ScheduleSuite("F1"),
            ScheduleSuite("HT1"),
            ScheduleSuite("FA1", downtimes=(Downtime(0, 20),)),
        ),
        (ScheduleProduct("P"),),
        (
            ScheduleBatch("F", "P", (SuiteOption("F1", 10),), deadline_h=10),
            ScheduleBatch("H", "P", (SuiteOption("HT1", 4, 16),), upstream="F", max_hold_h=0),
            ScheduleBatch("FI", "P", (SuiteOption("FA1", 5),), upstream="H", max_hold_h=0),
        ),
        objective=((ObjectiveTerm(ObjectiveKind.MAKESPAN),),),
    )


def test_a_tank_holds_longer_so_that_the_next_stage_starts_on_time() -> None:
    """The harvest tank holds the broth 10 h, until the filter is back: the construction and
    CP-SAT both find it, and the checker accepts the hold."""
    problem = _stretch_problem()
    placed = greedy_schedule(problem)
    assert placed is not None
    at = {item.batch: item for item in _checked(problem, placed).batches}
    assert (at["H"].start_h, at["H"].end_h, at["FI"].start_h) == (10, 20, 20)
    result = solve(problem, time_limit=5)
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == 25


def test_checker_rejects_a_hold_out_of_range_and_a_crowded_resource() -> None:
    """A hold beyond ``max_duration_h`` and two uses of a one-unit crew at once are each
    named."""
    problem = _stretch_problem()
    too_long = [
        ScheduledBatch("F", "P", "F1", 0, 10),
        ScheduledBatch("H", "P", "HT1", 10, 30),
        ScheduledBatch("FI", "P", "FA1", 30, 35),
    ]
    report = check_schedule_solution(problem, ScheduleSolution(tuple(too_long), {}, (35.0,)))
    assert any("outside [4, 16] h" in v for v in report.violations)
    crew = ResourceUse("crew", 1, 10)
    crowded = ScheduleProblem(
        "crowded",
        100,
        (ScheduleSuite("A"), ScheduleSuite("B")),
        (ScheduleProduct("P"),),
        (
            ScheduleBatch("a", "P", (SuiteOption("A", 20),), uses=(crew,)),
            ScheduleBatch("b", "P", (SuiteOption("B", 20),), uses=(crew,)),
        ),
        resources=(Resource("crew", 1),),
    )
    both = (ScheduledBatch("a", "P", "A", 0, 20), ScheduledBatch("b", "P", "B", 5, 25))
    report = check_schedule_solution(crowded, ScheduleSolution(both, {}, (float("nan"),)))
    assert any("resource crew: 2 units held at 5 h (a, b)" in v for v in report.violations)


def _document() -> dict[str, Any]:
    return {
        "format": "opencdmo-schedule/1",
        "id": "resources",
        "horizon_h": 100,
        "suites": [{"name": "F1"}, {"name": "HT1"}],
        "products": [{"name": "P"}],
        "resources": [{"name": "crew", "capacity": 1}],
        "batches": [
            {
                "id": "F",
                "product": "P",
                "options": [{"suite": "F1", "duration_h": 40}],
                "uses": [{"resource": "crew", "duration_h": 10}],
            },
            {
                "id": "H",
                "product": "P",
                "options": [{"suite": "HT1", "duration_h": 4, "max_duration_h": 16}],
                "upstream": "F",
                "max_hold_h": 0,
            },
        ],
    }


def test_reader_takes_resources_uses_and_variable_holds() -> None:
    """The optional fields read into the problem, with their defaults."""
    problem = parse_schedule(_document())
    assert problem.resources == (Resource("crew", 1),)
    assert problem.batch_by_id["F"].uses == (ResourceUse("crew", 1, 10),)
    assert problem.batch_by_id["H"].options[0].max_duration_h == 16


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d["batches"][0]["uses"][0].update(resource="steam"), "batches[0].uses[0]"),
        (lambda d: d["batches"][0]["uses"][0].update(amount=2), "batches[0].uses[0].amount"),
        (
            lambda d: d["batches"][1]["options"][0].update(max_duration_h=3),
            "batches[1].options[0].max_duration_h",
        ),
        (lambda d: d["resources"][0].update(capacity=0), "resources[0].capacity"),
        (lambda d: d["resources"][0].update(units=2), "resources[0]"),
    ],
)
def test_reader_names_the_field_of_a_bad_resource_or_hold(change: Any, path: str) -> None:
    """An unknown resource, an amount over the capacity, a maximum hold below the minimum, a
    capacity of 0 and an unknown key are each rejected at their JSON path."""
    document = copy.deepcopy(_document())
    change(document)
    with pytest.raises(InstanceError) as caught:
        parse_schedule(document)
    assert path in str(caught.value)


def test_a_chain_that_fits_nowhere_is_named_with_its_rule() -> None:
    """The fermenter is down at 10-50 h and 100-110 h, so a 48 h fermentation ends at 98-100 h
    or from 158 h, exactly when the harvest tank is down: no place for chain F → H, though
    each stage alone has room and the other chain fits. The result names that chain and the
    rules whose relaxation would let it fit."""
    problem = ScheduleProblem(
        "no_chain",
        200,
        (
            ScheduleSuite("F1", downtimes=(Downtime(10, 50), Downtime(100, 110))),
            ScheduleSuite("F2"),
            ScheduleSuite("HT1", downtimes=(Downtime(98, 150), Downtime(160, 200))),
            ScheduleSuite("HT2"),
        ),
        (ScheduleProduct("P"),),
        (
            ScheduleBatch("ok-F", "P", (SuiteOption("F2", 48),)),
            ScheduleBatch("ok-H", "P", (SuiteOption("HT2", 4),), upstream="ok-F", max_hold_h=0),
            ScheduleBatch("F", "P", (SuiteOption("F1", 48),)),
            ScheduleBatch("H", "P", (SuiteOption("HT1", 4),), upstream="F", max_hold_h=0),
        ),
        objective=((ObjectiveTerm(ObjectiveKind.MAKESPAN),),),
    )
    result = solve(problem, time_limit=10)
    assert result.status is SolveStatus.INFEASIBLE
    rules = {conflict.rule for conflict in result.conflicts}
    assert {"coupling", "downtime"} <= rules
    assert all("chain F → H fits nowhere" in c.reason for c in result.conflicts)
    assert all("ok-F" not in c.batches for c in result.conflicts)


def test_suites_sharing_only_a_resource_are_solved_together() -> None:
    """Two suites linked by nothing but the crew their batches need are one part: solved
    apart, each would take the crew at 0 h."""
    crew = ResourceUse("crew", 1, 10)
    problem = ScheduleProblem(
        "shared_crew",
        100,
        (ScheduleSuite("A"), ScheduleSuite("B")),
        (ScheduleProduct("P"),),
        (
            ScheduleBatch("a", "P", (SuiteOption("A", 20),), due_h=20, uses=(crew,)),
            ScheduleBatch("b", "P", (SuiteOption("B", 20),), due_h=20, uses=(crew,)),
        ),
        resources=(Resource("crew", 1),),
    )
    assert len(independent_parts(problem)) == 1
    result = solve(problem, time_limit=10)
    assert result.solution is not None
    assert check_schedule_solution(problem, result.solution, result.objective).ok
    assert result.objective == 10


def test_a_chain_that_needs_the_crew_twice_at_once_is_named_with_the_resource() -> None:
    """A 4 h step holds the only crew 10 h from its start, and the next step, which needs the
    crew too, must start the hour it ends: that chain fits nowhere, and the crew's capacity
    is one of the rules to blame."""
    crew = ResourceUse("crew", 1, 10)
    problem = ScheduleProblem(
        "crew_twice",
        100,
        (ScheduleSuite("S1"), ScheduleSuite("S2")),
        (ScheduleProduct("P"),),
        (
            ScheduleBatch("prep", "P", (SuiteOption("S1", 4),), uses=(crew,)),
            ScheduleBatch(
                "run", "P", (SuiteOption("S2", 8),), upstream="prep", max_hold_h=0, uses=(crew,)
            ),
        ),
        resources=(Resource("crew", 1),),
    )
    result = solve(problem, time_limit=10)
    assert result.status is SolveStatus.INFEASIBLE
    assert "resource" in {conflict.rule for conflict in result.conflicts}
    assert all("chain prep → run fits nowhere" in c.reason for c in result.conflicts)


def test_order_searches_that_all_overrun_leave_the_solve_its_other_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a busy machine every forked order search may still be in its first schedule when
    its time is up: the solve goes on from the chain construction instead of failing."""

    def stuck(*_: object, **__: object) -> None:
        time.sleep(10)

    monkeypatch.setattr(schedule_solver, "search_schedule", stuck)
    monkeypatch.setattr(schedule_solver, "SEARCH_GRACE_S", 0.0)
    problem = _stretch_problem()
    result = solve(problem, time_limit=3, threads=2)
    assert result.solution is not None
    assert check_schedule_solution(problem, result.solution, result.objective).ok
    assert result.objective == 25
