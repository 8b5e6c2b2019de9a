"""Racing seeded HiGHS searches: the first proof wins, time-limited runs combine soundly."""

from __future__ import annotations

import math

import pytest

from opencdmo.engines.planning import (
    SolveStatus,
    check_campaign_solution,
    read_campaign,
    solve,
)
from opencdmo.engines.planning.solvers.highs import race as highs_race
from opencdmo.engines.planning.solvers.highs.model import LinearModel, MilpOutcome
from opencdmo.engines.planning.solvers.highs.race import race_milp
from tests.engines.planning.conftest import DATA, LAKHDAR_EXAMPLE1


def test_two_searches_prove_the_paper_optimum() -> None:
    """threads=2 on Example 1: optimal 490, and the winner's plan passes the checker."""
    problem = read_campaign(LAKHDAR_EXAMPLE1)
    result = solve(problem, time_limit=60, threads=2)
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(490.0)
    assert result.solution is not None
    report = check_campaign_solution(problem, result.solution, result.objective)
    assert report.ok, report.violations


def test_time_limited_searches_keep_a_valid_bound() -> None:
    """Stopped early, the combined plan is feasible and the bound still covers the optimum."""
    problem = read_campaign(DATA / "lakhdar2005_example2_modified.json")
    result = solve(problem, time_limit=0.5, threads=2)
    assert result.status is SolveStatus.TIME_LIMIT
    assert result.bound is not None
    assert result.bound >= 598.0 - 1e-6
    if result.solution is not None:
        assert result.objective is not None
        assert result.objective <= 598.0 + 1e-6
        assert check_campaign_solution(problem, result.solution, result.objective).ok


def _knapsack(capacity: float) -> LinearModel:
    """max 5a + 4b + 3c with 2a + 3b + c ≤ capacity, a, b, c binary (optimum 12 at 6)."""
    model = LinearModel()
    columns = [model.add_var(0.0, 1.0, cost, integer=True) for cost in (5.0, 4.0, 3.0)]
    model.add_row(-math.inf, capacity, columns, [2.0, 3.0, 1.0])
    return model


def test_race_answers_like_a_single_search() -> None:
    """Optimum and infeasibility come back from the forked searches unchanged."""
    won = race_milp([_knapsack(6.0)], maximise=True, time_limit_s=10, searches=2, seed=0)
    assert won.status is SolveStatus.OPTIMAL
    assert won.objective == pytest.approx(12.0)
    assert won.values is not None
    assert [round(x) for x in won.values] == [1, 1, 1]
    infeasible = _knapsack(6.0)
    infeasible.add_row(7.0, math.inf, [0, 1, 2], [2.0, 3.0, 1.0])
    lost = race_milp([infeasible], maximise=True, time_limit_s=10, searches=2, seed=0)
    assert lost.status is SolveStatus.INFEASIBLE


def test_without_fork_one_search_runs_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where processes cannot be forked the race is a plain solve in this process."""
    monkeypatch.setattr(highs_race, "can_fork", lambda: False)
    monkeypatch.setattr(
        highs_race, "run_forked", lambda *_, **__: pytest.fail("no process may be started")
    )
    outcome = race_milp([_knapsack(3.0)], maximise=True, time_limit_s=10, searches=4, seed=0)
    assert outcome.objective == pytest.approx(8.0)


def test_combined_bound_is_the_tightest_and_closes_the_gap() -> None:
    """Two time-limited runs: the best plan of one and the bound of the other prove optimality."""
    first = MilpOutcome(SolveStatus.TIME_LIMIT, 10.0, 14.0, None, 5)
    second = MilpOutcome(SolveStatus.TIME_LIMIT, 9.0, 10.0, None, 7)
    combined = highs_race._combine([first, second], maximise=True)
    assert (combined.objective, combined.bound, combined.status) == (
        10.0,
        10.0,
        SolveStatus.OPTIMAL,
    )
    open_gap = highs_race._combine(
        [
            MilpOutcome(SolveStatus.TIME_LIMIT, 12.0, 8.0, None, 1),
            MilpOutcome(SolveStatus.TIME_LIMIT, 10.0, 9.0, None, 1),
        ],
        maximise=False,
    )
    assert (open_gap.objective, open_gap.bound, open_gap.status) == (
        10.0,
        9.0,
        SolveStatus.TIME_LIMIT,
    )


def test_each_formulation_runs_with_its_own_settings() -> None:
    """``model_options[k]`` reaches only the searches on ``models[k]``: a search told to stop
    at once answers nothing, while the other formulation's search still proves the optimum."""
    stop_at_once: dict[str, bool | int | float | str] = {"time_limit": 0.0, "presolve": "off"}
    alone = race_milp(
        [_knapsack(6.0)],
        maximise=True,
        time_limit_s=10,
        searches=1,
        seed=0,
        model_options=[stop_at_once],
    )
    assert alone.status is SolveStatus.TIME_LIMIT
    raced = race_milp(
        [_knapsack(6.0), _knapsack(6.0)],
        maximise=True,
        time_limit_s=10,
        searches=2,
        seed=0,
        model_options=[stop_at_once, {}],
    )
    assert raced.status is SolveStatus.OPTIMAL
    assert raced.objective == pytest.approx(12.0)
