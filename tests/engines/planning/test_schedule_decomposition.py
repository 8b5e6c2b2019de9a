"""Instances split into parts that share no suite and no upstream link, and solve as one."""

from __future__ import annotations

import pytest

from opencdmo.engines.planning import (
    PreviousAssignment,
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
from opencdmo.engines.planning.schedule.decomposition import independent_parts
from tests.engines.planning.test_schedule_solver import _one_suite


def _two_lines() -> dict:
    doc = _one_suite(["P", "Q", "P"], changeover_h=5)
    doc["suites"].append({"name": "T"})
    doc["batches"].append(
        {"id": "t0", "product": "Q", "options": [{"suite": "T", "duration_h": 7}]}
    )
    doc["objective"] = {"levels": [[{"kind": "changeover_cost"}]]}
    return doc


def test_unlinked_suites_form_parts() -> None:
    """Suite S and suite T share no batch: two parts, each with its own batches."""
    parts = independent_parts(parse_schedule(_two_lines()))
    assert sorted(len(p.batches) for p in parts) == [1, 3]


def test_upstream_links_and_makespan_keep_the_instance_whole() -> None:
    """A batch downstream of another links their suites; a makespan objective never splits."""
    linked = _two_lines()
    linked["batches"][-1]["upstream"] = "b0"
    assert len(independent_parts(parse_schedule(linked))) == 1
    timed = _two_lines()
    timed["objective"] = {"levels": [[{"kind": "makespan"}]]}
    assert len(independent_parts(parse_schedule(timed))) == 1


def test_parts_solve_to_the_whole_optimum() -> None:
    """P Q P on S needs one switch (cost 1), T none: optimal 1 with a bound of 1."""
    problem = parse_schedule(_two_lines())
    result = solve(problem, time_limit=10, seed=1)
    assert result.solution is not None
    assert check_schedule_solution(problem, result.solution, result.objective).ok
    assert result.objective == pytest.approx(1.0)
    assert result.bound == pytest.approx(1.0)
    assert result.status.value == "optimal"


def test_a_published_place_on_a_suite_of_another_part_stays_a_valid_reference() -> None:
    """The plan in force ran ``a`` on S2, which ``a`` may no longer use: the parts keep S2
    so the published place still validates, and the reschedule solves."""
    problem = ScheduleProblem(
        id="moved_suite",
        horizon_h=100,
        suites=(ScheduleSuite("S1"), ScheduleSuite("S2")),
        products=(ScheduleProduct("P"),),
        batches=(
            ScheduleBatch("a", "P", (SuiteOption("S1", 10),)),
            ScheduleBatch("b", "P", (SuiteOption("S2", 10),)),
        ),
    )
    plan = [ScheduledBatch("a", "P", "S2", 0, 10), ScheduledBatch("b", "P", "S2", 10, 20)]
    reschedule = problem.with_plan_in_force(plan, 0)
    assert len(independent_parts(reschedule)) == 2
    result = solve(reschedule, time_limit=5)
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(0.0)


def test_a_batch_frozen_in_the_instance_stays_frozen_in_a_reschedule() -> None:
    """``a`` is frozen in the instance; with no cut-off the plan in force keeps it frozen,
    at the plan's place, and leaves ``b`` free."""
    problem = ScheduleProblem(
        id="kept_frozen",
        horizon_h=100,
        suites=(ScheduleSuite("S1"),),
        products=(ScheduleProduct("P"),),
        batches=(
            ScheduleBatch(
                "a",
                "P",
                (SuiteOption("S1", 10),),
                previous=PreviousAssignment("S1", 0),
                frozen=True,
            ),
            ScheduleBatch("b", "P", (SuiteOption("S1", 10),)),
        ),
    )
    plan = [ScheduledBatch("a", "P", "S1", 20, 30), ScheduledBatch("b", "P", "S1", 0, 10)]
    reschedule = problem.with_plan_in_force(plan)
    a, b = reschedule.batches
    assert (a.frozen, a.previous) == (True, PreviousAssignment("S1", 20))
    assert (b.frozen, b.previous) == (False, PreviousAssignment("S1", 0))
