"""The STN MILP reproduces published and hand-computed optima; the checker passes each one."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from opencdmo.engines.planning import (
    SolveStatus,
    StnProblem,
    check_stn_solution,
    parse_stn,
    read_stn,
    solve,
)
from tests.engines.planning.conftest import DATA, KONDILI


def solved(problem: StnProblem) -> tuple[float, Any]:
    """Solve, run the independent checker, and return the objective and the result."""
    result = solve(problem, time_limit=60)
    assert result.status is SolveStatus.OPTIMAL
    assert result.solution is not None
    assert result.objective is not None
    report = check_stn_solution(problem, result.solution, result.objective)
    assert report.ok, report.violations
    assert report.objective == pytest.approx(result.objective, abs=1e-6)
    assert result.bound is not None
    assert result.bound >= result.objective - 1e-6
    return result.objective, result


def test_kondili_reproduces_reference_optimum() -> None:
    """Kondili H = 10 with unlimited storage reaches exactly 2744.375."""
    objective, result = solved(read_stn(KONDILI))
    assert objective == pytest.approx(2744.375, abs=1e-6)
    assert result.solution.breakdown()["inventory_value"] == pytest.approx(2744.375, abs=1e-6)
    assert len(result.solution.inventory_kg["Feed_A"]) == 11


def test_hand_computed_cleaning_and_costs() -> None:
    """Cleaning blocks the unit and fixed plus variable costs are charged: optimum 110."""
    objective, result = solved(read_stn(DATA / "single_task_cleaning.json"))
    assert objective == pytest.approx(110.0)
    first, second = sorted(b.start_h for b in result.solution.batches)
    assert second - first >= 3.0


def test_without_cleaning_the_feed_limits_output() -> None:
    """With no cleaning three batches fit but only 100 kg of feed exist: 1.5·100 − 3·5 = 135."""
    document = _single_task_document()
    document["units"][0]["tasks"][0]["cleaning_time_h"] = 0
    objective, _ = solved(parse_stn(document))
    assert objective == pytest.approx(135.0)


def test_finite_storage_limits_every_grid_point() -> None:
    """A 50 kg product tank caps the total output: 1.5·50 − 2·5 = 65."""
    document = _single_task_document()
    document["states"][1]["capacity_kg"] = 50
    objective, result = solved(parse_stn(document))
    assert objective == pytest.approx(65.0)
    assert max(result.solution.inventory_kg["B"]) <= 50 + 1e-6


def test_minimum_batch_size_is_respected() -> None:
    """With bmin 30 kg and a 50 kg tank one batch is best: 1.5·40 − 5 = 55."""
    document = _single_task_document()
    document["states"][1]["capacity_kg"] = 50
    document["units"][0]["tasks"][0]["bmin_kg"] = 30
    objective, result = solved(parse_stn(document))
    assert objective == pytest.approx(55.0)
    assert all(b.batch_kg >= 30 - 1e-6 for b in result.solution.batches)


def test_outputs_released_at_different_times() -> None:
    """A task lasts until its last release (3 h): only starts at 0 h and 3 h fit, 2·(60 − 5) = 110."""
    document = _single_task_document()
    task = document["tasks"][0]
    task["outputs"] = [
        {"state": "B", "fraction": 0.5, "release_after_h": 1},
        {"state": "C", "fraction": 0.5, "release_after_h": 3},
    ]
    document["states"].append(
        {"name": "C", "initial_kg": 0, "capacity_kg": None, "price_per_kg": 2}
    )
    document["units"][0]["tasks"][0]["cleaning_time_h"] = 0
    objective, result = solved(parse_stn(document))
    assert sorted(b.start_h for b in result.solution.batches) == [0.0, 3.0]
    assert objective == pytest.approx(110.0)


def test_infeasible_instance_reports_infeasible() -> None:
    """A feed above its tank capacity that no batch can draw down is infeasible, not a plan."""
    document = _single_task_document()
    document["states"][0]["capacity_kg"] = 10
    result = solve(parse_stn(document), time_limit=10)
    assert result.status is SolveStatus.INFEASIBLE
    assert result.objective is None
    assert result.solution is None
    assert result.document()["schedule"] is None


def test_checker_rejects_overlap_and_wrong_inventory() -> None:
    """Moving a batch onto a busy unit and editing an inventory are both reported."""
    problem = read_stn(DATA / "single_task_cleaning.json")
    result = solve(problem, time_limit=10)
    assert result.solution is not None
    first, second = result.solution.batches
    moved = dataclasses.replace(second, start_h=2.0, end_h=4.0)
    bad = dataclasses.replace(result.solution, batches=(first, moved))
    report = check_stn_solution(problem, bad, result.objective)
    assert any("busy" in line for line in report.violations)
    inventory = dict(result.solution.inventory_kg)
    inventory["B"] = (*inventory["B"][:-1], inventory["B"][-1] + 1.0)
    report = check_stn_solution(
        problem, dataclasses.replace(result.solution, inventory_kg=inventory)
    )
    assert any("differs from the balance" in line for line in report.violations)


def test_checker_rejects_batches_running_past_the_horizon() -> None:
    """A batch that would release after H violates the end-of-horizon rule."""
    problem = read_stn(DATA / "single_task_cleaning.json")
    result = solve(problem, time_limit=10)
    assert result.solution is not None
    late = dataclasses.replace(result.solution.batches[1], start_h=5.0, end_h=7.0)
    report = check_stn_solution(problem, dataclasses.replace(result.solution, batches=(late,)))
    assert any("after the horizon" in line for line in report.violations)


def test_result_document_and_gantt() -> None:
    """The result document follows opencdmo-result/1 and Gantt bars span each batch."""
    result = solve(read_stn(KONDILI), time_limit=60)
    document = result.document()
    assert document["format"] == "opencdmo-result/1"
    assert document["problem"] == "stn"
    assert document["instance_id"] == "kondili_h10_unlimited_storage"
    assert set(document["schedule"]["inventory_kg"]) == {s["name"] for s in _kondili_states()}
    bars = result.gantt()
    assert bars
    assert all(bar.end > bar.start for bar in bars)


def _kondili_states() -> list[dict[str, Any]]:
    from tests.engines.planning.conftest import load

    return load(KONDILI)["states"]


def _single_task_document() -> dict[str, Any]:
    from tests.engines.planning.conftest import load

    return load(DATA / "single_task_cleaning.json")


def test_thread_count_can_change_between_solves() -> None:
    """HiGHS's process-wide thread pool is reset, so 1, 2 then 1 threads all solve."""
    problem = read_stn(DATA / "single_task_cleaning.json")
    for threads in (1, 2, 1):
        result = solve(problem, time_limit=10, threads=threads)
        assert result.status is SolveStatus.OPTIMAL
        assert result.objective == pytest.approx(110.0)
