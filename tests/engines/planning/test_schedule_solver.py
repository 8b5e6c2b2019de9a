"""The CP-SAT suite scheduler honours every CDMO constraint; the checker verifies each solve."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from opencdmo.engines.planning import (
    Changeover,
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
    parse_schedule,
    read_schedule,
    solve,
)
from opencdmo.engines.planning.schedule import solver as schedule_solver
from opencdmo.engines.planning.schedule.bound import first_level_bound
from opencdmo.engines.planning.schedule.evaluation import evaluate_schedule
from opencdmo.engines.planning.schedule.greedy import greedy_schedule
from opencdmo.engines.planning.schedule.search import search_schedule
from tests.engines.planning.conftest import DATA

TWO_SITES = DATA / "two_site_suites.json"


def solved(problem: ScheduleProblem, time_limit: float = 20) -> Any:
    """Solve, run the independent checker, and return the result."""
    result = solve(problem, time_limit=time_limit, seed=1)
    assert result.solution is not None
    report = check_schedule_solution(problem, result.solution, result.objective)
    assert report.ok, report.violations
    return result


def document() -> dict[str, Any]:
    """A fresh copy of the two-site test instance."""
    return json.loads(TWO_SITES.read_text(encoding="utf-8"))


def by_id(result: Any) -> dict[str, Any]:
    """Placed batches by batch id."""
    return {b.batch: b for b in result.solution.batches}


def test_two_sites_on_time_with_least_changeover_cost() -> None:
    """Every batch is on time, then changeover cost 50 plus 0.01·makespan is minimal."""
    result = solved(read_schedule(TWO_SITES))
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(0.0)
    terms = result.solution.terms
    assert terms["changeover_cost"] == pytest.approx(50.0)
    assert result.solution.levels[1] == pytest.approx(50.0 + 0.01 * terms["makespan"])


def test_downtime_coupling_and_campaign_rules_hold() -> None:
    """No batch in a downtime, DSP within its hold after USP, mAb-A campaigns of 2 to 3."""
    result = solved(read_schedule(TWO_SITES))
    placed = by_id(result)
    for name in ("A1", "A2", "A3"):
        usp, dsp = placed[f"{name}-usp"], placed[f"{name}-dsp"]
        assert 0 <= dsp.start_h - usp.end_h <= 24
    usp_b1 = [b for b in result.solution.batches if b.suite == "USP-B1"]
    assert all(b.end_h <= 200 or b.start_h >= 260 for b in usp_b1)


def test_makespan_objective_with_changeovers_is_exact() -> None:
    """Three 10 h batches of alternating products on one suite with 5 h changeovers: 35 h."""
    result = solved(parse_schedule(_one_suite(["P", "Q", "P"], changeover_h=5)))
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(35.0)


def test_campaign_minimum_forces_grouping() -> None:
    """With campaigns of at least 2, P P Q Q is the only order: changeovers cost exactly 1."""
    doc = _one_suite(["P", "Q", "P", "Q"], changeover_h=5)
    doc["products"] = [
        {"name": "P", "campaign_min_batches": 2},
        {"name": "Q", "campaign_min_batches": 2},
    ]
    doc["objective"] = {"levels": [[{"kind": "changeover_cost"}]]}
    result = solved(parse_schedule(doc))
    assert result.objective == pytest.approx(1.0)
    products = [b.product for b in sorted(result.solution.batches, key=lambda b: b.start_h)]
    assert products in (["P", "P", "Q", "Q"], ["Q", "Q", "P", "P"])


def test_campaign_maximum_splits_long_runs() -> None:
    """At most 2 P batches per campaign: four P batches need a changeover in between."""
    doc = _one_suite(["P", "P", "P", "P", "Q"], changeover_h=5)
    doc["products"] = [{"name": "P", "campaign_max_batches": 2}, {"name": "Q"}]
    doc["objective"] = {"levels": [[{"kind": "makespan"}]]}
    result = solved(parse_schedule(doc))
    assert result.objective == pytest.approx(50.0 + 2 * 5.0)


def test_weighted_tardiness_prefers_heavy_batch() -> None:
    """Two batches due at 10 h on one suite: the heavier one goes first, tardiness 10·1."""
    doc = _one_suite(["P", "P"], changeover_h=0)
    doc["batches"][0].update(due_h=10, tardiness_weight=1)
    doc["batches"][1].update(due_h=10, tardiness_weight=3)
    doc["objective"] = {"levels": [[{"kind": "weighted_tardiness"}]]}
    result = solved(parse_schedule(doc))
    assert result.objective == pytest.approx(10.0)
    assert by_id(result)["b1"].start_h == 0


def test_deadline_makes_instance_infeasible() -> None:
    """Two 10 h batches on one suite cannot both end by 15 h: infeasible, no schedule."""
    doc = _one_suite(["P", "P"], changeover_h=0)
    for batch in doc["batches"]:
        batch["deadline_h"] = 15
    result = solve(parse_schedule(doc), time_limit=10)
    assert result.status is SolveStatus.INFEASIBLE
    assert result.solution is None


def test_rescheduling_keeps_frozen_and_moves_published_least() -> None:
    """A frozen batch stays; a published batch moves only as far as the frozen one forces."""
    doc = _one_suite(["P", "P"], changeover_h=0)
    doc["batches"][0].update(previous={"suite": "S", "start_h": 5}, frozen=True)
    doc["batches"][1].update(previous={"suite": "S", "start_h": 8})
    doc["objective"] = {"levels": [[{"kind": "schedule_changes"}]]}
    result = solved(parse_schedule(doc))
    placed = by_id(result)
    assert placed["b0"].start_h == 5
    assert placed["b1"].start_h == 15
    assert result.objective == pytest.approx(7.0)


@pytest.mark.parametrize("published_h", [150, -150])
def test_a_published_start_outside_the_horizon_is_measured_not_imposed(published_h: int) -> None:
    """A plan made on a longer horizon: the move is priced from where the batch was, and
    every start of the new window stays open (due at 20: start 10 is on time and moves least
    from 150; from -150, start 0 moves least and is on time)."""
    problem = ScheduleProblem(
        id="shorter_horizon",
        horizon_h=100,
        suites=(ScheduleSuite("S"),),
        products=(ScheduleProduct("P"),),
        batches=(
            ScheduleBatch(
                "b0",
                "P",
                (SuiteOption("S", 10),),
                due_h=20,
                tardiness_weight=10.0,
                previous=PreviousAssignment("S", published_h),
            ),
        ),
        objective=(
            (
                ObjectiveTerm(ObjectiveKind.WEIGHTED_TARDINESS),
                ObjectiveTerm(ObjectiveKind.SCHEDULE_CHANGES),
            ),
        ),
    )
    result = solved(problem)
    assert result.status is SolveStatus.OPTIMAL
    expected_start = 10 if published_h > 0 else 0
    assert by_id(result)["b0"].start_h == expected_start
    assert result.objective == pytest.approx(abs(published_h - expected_start))
    assert result.bound <= result.objective + 1e-9


def test_a_batch_published_on_a_suite_taken_out_of_service_moves_and_pays() -> None:
    """The plan in force names a suite the instance no longer has: the batch is not
    rejected, it moves to a suite it may use, and the suite change is priced."""
    doc = _one_suite(["P"], changeover_h=0)
    doc["batches"][0]["previous"] = {"suite": "S-retired", "start_h": 5}
    doc["objective"] = {"levels": [[{"kind": "schedule_changes"}]]}
    doc["rescheduling"] = {"move_cost_per_h": 1, "suite_change_cost": 100}
    result = solved(parse_schedule(doc))
    placed = by_id(result)["b0"]
    assert (placed.suite, placed.start_h) == ("S", 5)
    assert result.objective == pytest.approx(100.0)


def test_checker_rejects_overlap_downtime_and_hold_violations() -> None:
    """Tampered schedules are caught: changeover gap, downtime and maximum hold."""
    problem = read_schedule(TWO_SITES)
    result = solve(problem, time_limit=20)
    solution = result.solution
    assert solution is not None
    placed = list(solution.batches)
    index = next(n for n, b in enumerate(placed) if b.batch == "A3-usp")
    placed[index] = dataclasses.replace(placed[index], start_h=180, end_h=276)
    report = check_schedule_solution(problem, dataclasses.replace(solution, batches=tuple(placed)))
    assert any("maintenance window" in line for line in report.violations)
    assert any("held longer" in line or "starts before" in line for line in report.violations)


def _one_suite(products: list[str], changeover_h: int) -> dict[str, Any]:
    names = sorted(set(products))
    return {
        "format": "opencdmo-schedule/1",
        "id": "one_suite",
        "horizon_h": 200,
        "suites": [{"name": "S"}],
        "products": [{"name": name} for name in names],
        "changeovers": [
            {"from_product": a, "to_product": b, "duration_h": changeover_h, "cost": 1}
            for a in names
            for b in names
            if a != b
        ],
        "batches": [
            {"id": f"b{n}", "product": product, "options": [{"suite": "S", "duration_h": 10}]}
            for n, product in enumerate(products)
        ],
        "objective": {"levels": [[{"kind": "makespan"}]]},
    }


def test_changeover_cost_bound_counts_campaigns() -> None:
    """One suite, a campaign limit of 2 and five batches of two products: exactly 2 switches.

    The switch-count row (3 campaigns on 1 suite) is tight here and keeps the optimum.
    """
    batches = tuple(
        ScheduleBatch(f"{product}{n}", product, (SuiteOption("S", 10),))
        for product, count in (("A", 3), ("B", 2))
        for n in range(count)
    )
    problem = ScheduleProblem(
        id="switch_bound",
        horizon_h=200,
        suites=(ScheduleSuite("S"),),
        products=(ScheduleProduct("A", 1, 2), ScheduleProduct("B", 1, 2)),
        batches=batches,
        changeovers=(Changeover("A", "B", 0, 20.0, None), Changeover("B", "A", 0, 20.0, None)),
        objective=((ObjectiveTerm(ObjectiveKind.CHANGEOVER_COST),),),
    )
    result = solved(problem)
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(40.0)
    assert result.bound == pytest.approx(40.0)


def test_large_models_improve_by_neighbourhoods_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Above the size threshold every CP-SAT worker runs neighbourhood search from the start.

    With the threshold at 0 the two-site instance takes that path: the schedule is still
    checked, on time, and no worse than the order search it starts from; the bound stays the
    solver-free one, since no worker proves anything.
    """
    monkeypatch.setattr(schedule_solver, "LNS_ONLY_VARIABLES", 0)
    problem = read_schedule(TWO_SITES)
    start = search_schedule(problem, 0.5, seed=1)
    assert start is not None
    result = solve(problem, time_limit=5, threads=2, seed=1)
    assert result.solution is not None
    assert check_schedule_solution(problem, result.solution, result.objective).ok
    assert result.objective == pytest.approx(0.0)
    assert result.solution.levels <= evaluate_schedule(problem, start)[1]
    assert result.bound == pytest.approx(first_level_bound(problem))


def test_each_core_runs_its_own_order_search() -> None:
    """With two threads the order search runs seeded 3 and 4 and the better schedule is kept."""
    problem = read_schedule(TWO_SITES)
    searched = [search_schedule(problem, 5.0, seed) for seed in (3, 4)]
    levels = [evaluate_schedule(problem, schedule or []) for schedule in searched]
    best = schedule_solver._best_search(problem, 5.0, threads=2, seed=3)
    assert best is not None
    assert evaluate_schedule(problem, best)[1] == min(value[1] for value in levels)


def test_a_reschedule_starts_from_the_published_schedule_when_it_still_fits() -> None:
    """Publish a schedule of the two-site instance and freeze its first half: the published
    schedule is a valid start, so the reschedule is never worse than it, even though the
    greedy gets stuck on the campaign minimum here."""
    problem = read_schedule(TWO_SITES)
    first = solved(problem)
    cut = sorted(b.start_h for b in first.solution.batches)[len(problem.batches) // 2]
    at = by_id(first)
    reschedule = problem.with_plan_in_force(first.solution.batches, cut)
    batches = reschedule.batches
    assert all(b.previous == PreviousAssignment(at[b.id].suite, at[b.id].start_h) for b in batches)
    assert sum(b.frozen for b in batches) == len(batches) // 2
    published = schedule_solver._published(reschedule)
    assert published is not None
    assert schedule_solver._feasible(reschedule, published)
    assert greedy_schedule(reschedule) is None
    result = solved(reschedule, time_limit=10)
    moved = by_id(result)
    assert all(moved[b.id].start_h == at[b.id].start_h for b in batches if b.frozen)
    assert result.solution.levels <= first.solution.levels
    partly = dataclasses.replace(reschedule, batches=(*batches[:-1], problem.batches[-1]))
    assert schedule_solver._published(partly) is None
