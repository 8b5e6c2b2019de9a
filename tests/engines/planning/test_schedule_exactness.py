"""What the suite scheduler reports is exact: overlapping downtimes, bounds and statuses."""

from __future__ import annotations

import pytest

from opencdmo.engines.planning import (
    ObjectiveKind,
    ObjectiveTerm,
    PreviousAssignment,
    ScheduleBatch,
    ScheduleProblem,
    ScheduleProduct,
    ScheduleSuite,
    SolveStatus,
    SuiteOption,
    check_schedule_solution,
    solve,
)
from opencdmo.engines.planning.schedule import cpsat
from opencdmo.engines.planning.schedule.bound import first_level_bound
from opencdmo.engines.planning.schedule.diagnosis import precheck
from opencdmo.engines.planning.schedule.evaluation import evaluate_schedule
from opencdmo.engines.planning.schedule.greedy import greedy_schedule
from opencdmo.engines.planning.schedule.problem import Downtime
from opencdmo.engines.planning.schedule.search import search_schedule
from opencdmo.engines.planning.schedule.solution import ScheduleSolution


def _overlapping_downtimes(windows: tuple[tuple[int, int], ...]) -> ScheduleProblem:
    """One suite, one 10 h batch, horizon 100, the given downtimes."""
    return ScheduleProblem(
        "overlapping",
        100,
        (ScheduleSuite("S", downtimes=tuple(Downtime(a, b) for a, b in windows)),),
        (ScheduleProduct("P"),),
        (ScheduleBatch("b", "P", (SuiteOption("S", 10),)),),
        objective=((ObjectiveTerm(ObjectiveKind.MAKESPAN),),),
    )


@pytest.mark.parametrize(
    "windows",
    [((30, 60), (40, 50)), ((30, 50), (40, 60)), ((30, 45), (45, 60)), ((40, 50), (30, 60))],
)
def test_overlapping_or_touching_downtimes_leave_the_free_time_usable(
    windows: tuple[tuple[int, int], ...],
) -> None:
    """Downtimes that overlap or touch are one window: CP-SAT, the greedy, the order search,
    the bound and the precheck all find [0, 10) free."""
    problem = _overlapping_downtimes(windows)
    assert problem.suites[0].blocked == ((30, 60),)
    assert precheck(problem) == []
    assert first_level_bound(problem) == 10
    for placed in (greedy_schedule(problem), search_schedule(problem, 0.1)):
        assert placed is not None
        assert [(b.start_h, b.end_h) for b in placed] == [(0, 10)]
    result = solve(problem, time_limit=5)
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == 10
    assert result.solution is not None
    assert check_schedule_solution(problem, result.solution, result.objective).ok


def test_a_batch_that_only_fits_after_overlapping_downtimes_waits_for_both() -> None:
    """A batch released inside the merged window starts when the last window ends."""
    problem = _overlapping_downtimes(((30, 60), (40, 70)))
    late = ScheduleBatch("b", "P", (SuiteOption("S", 10),), release_h=35)
    problem = ScheduleProblem(
        problem.id, 100, problem.suites, problem.products, (late,), objective=problem.objective
    )
    result = solve(problem, time_limit=5)
    assert result.solution is not None
    assert [(b.start_h, b.end_h) for b in result.solution.batches] == [(70, 80)]


def _suite_change(weight: float, cost: float, move_cost: float = 1.0) -> ScheduleProblem:
    """A batch published on a suite taken out of service: it pays ``cost`` to move."""
    return ScheduleProblem(
        "suite_change",
        100,
        (ScheduleSuite("S"),),
        (ScheduleProduct("P"),),
        (ScheduleBatch("b", "P", (SuiteOption("S", 10),), previous=PreviousAssignment("T", 3)),),
        objective=((ObjectiveTerm(ObjectiveKind.SCHEDULE_CHANGES, weight),),),
        move_cost_per_h=move_cost,
        suite_change_cost=cost,
    )


@pytest.mark.parametrize(
    ("weight", "cost", "move_cost"),
    [(0.013, 55.5, 0.0), (0.013, 55.5, 1.0), (0.0137, 10033.5, 0.0), (1 / 3, 7.0, 1.0)],
)
def test_the_bound_never_exceeds_the_objective(
    weight: float, cost: float, move_cost: float
) -> None:
    """0.013 × 55.5 = 0.7215 enters CP-SAT exactly, not rounded up to 0.722: the bound of an
    optimal schedule is its true value, never above it."""
    problem = _suite_change(weight, cost, move_cost)
    result = solve(problem, time_limit=5)
    assert result.objective is not None
    assert result.bound is not None
    assert result.objective == pytest.approx(weight * cost)
    assert result.bound <= result.objective
    assert result.status is SolveStatus.OPTIMAL
    assert result.bound == pytest.approx(result.objective, rel=1e-6)


def test_costs_enter_cp_sat_as_exact_whole_numbers_where_a_power_of_ten_allows() -> None:
    """The least power of ten that makes every coefficient whole is chosen; 1/3 has none, so
    its rounding error is kept to lower the bound."""
    assert cpsat.choose_scale([(0.013 * 55.5, 1)]).factor == 10_000
    assert cpsat.choose_scale([(0.013 * 55.5, 1)]).exact
    assert cpsat.choose_scale([(2.0, 1000)]).factor == cpsat.COST_SCALE
    third = cpsat.choose_scale([(1 / 3, 100)])
    assert not third.exact
    assert third.lower_bound(third.factor * 100 / 3) <= 100 / 3


def _two_late(weight: float) -> ScheduleProblem:
    """Two 10 h batches due at 10 on one suite: one of them is 10 h late."""
    return ScheduleProblem(
        "two_late",
        100,
        (ScheduleSuite("S"),),
        (ScheduleProduct("P"),),
        tuple(ScheduleBatch(i, "P", (SuiteOption("S", 10),), due_h=10) for i in ("a", "b")),
        objective=((ObjectiveTerm(ObjectiveKind.WEIGHTED_TARDINESS, weight),),),
    )


def test_a_tiny_weight_is_solved_exactly() -> None:
    """Weight 0.0004 no longer rounds to 0: the schedule is proved optimal at once."""
    result = solve(_two_late(0.0004), time_limit=10)
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(0.004)
    assert result.bound == pytest.approx(0.004)


def test_a_solve_that_ends_before_its_limit_is_feasible_not_time_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When rounding keeps the bound below the schedule (here: costs forced onto 0.001, so
    0.0004 enters as 0), a search that ended by itself says ``feasible``; the bound stays a
    true one."""
    monkeypatch.setattr(cpsat, "SCALE_POWERS", range(3, 4))
    result = solve(_two_late(0.0004), time_limit=10)
    assert result.wall_s < 5
    assert result.status is SolveStatus.FEASIBLE
    assert result.objective == pytest.approx(0.004)
    assert result.bound is not None
    assert result.bound <= result.objective
    assert result.solution is not None
    levels = evaluate_schedule(_two_late(0.0004), result.solution.batches)[1]
    solution = ScheduleSolution(result.solution.batches, result.solution.terms, levels)
    assert check_schedule_solution(_two_late(0.0004), solution, result.objective).ok
