"""The Lakhdar (2005) MILP reproduces the published optimum; the checker passes each plan."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from opencdmo.engines.planning import (
    CampaignProblem,
    SolveStatus,
    check_campaign_solution,
    parse_campaign,
    read_campaign,
    solve,
)
from opencdmo.engines.planning.campaign.problem import Stage, StageData
from opencdmo.engines.planning.campaign.solver import (
    _add_lead_necessity,
    _add_valid_inequalities,
    _Assignment,
    _build,
)
from opencdmo.engines.planning.solvers.highs.model import LinearModel
from opencdmo.engines.planning.solvers.highs.phases import solve_in_phases
from tests.engines.planning.conftest import DATA, LAKHDAR_EXAMPLE1


def solved(problem: CampaignProblem) -> Any:
    """Solve, run the independent checker, and return the result."""
    result = solve(problem, time_limit=60)
    assert result.status is SolveStatus.OPTIMAL
    assert result.solution is not None
    assert result.objective is not None
    report = check_campaign_solution(problem, result.solution, result.objective)
    assert report.ok, report.violations
    assert result.bound is not None
    assert result.bound >= result.objective - 1e-6
    return result


def test_example1_reproduces_490() -> None:
    """Example 1 reaches exactly 490 with the published breakdown."""
    result = solved(read_campaign(LAKHDAR_EXAMPLE1))
    assert result.objective == pytest.approx(490.0, abs=1e-6)
    assert result.solution.breakdown() == pytest.approx(
        {
            "sales_revenue": 680,
            "production_cost": 136,
            "changeover_cost": 9,
            "storage_cost": 25,
            "backlog_cost": 20,
            "waste_cost": 0,
        }
    )
    assert len(result.solution.products) == 3 * 6


def test_example2_reproduces_539() -> None:
    """Example 2 (three USP suites with restricted products, λ = 0.5, no (C6)) reaches 539."""
    problem = read_campaign(DATA / "lakhdar2005_example2.json")
    assert problem.single_dsp_lead_time_per_suite_and_period is False
    result = solved(problem)
    assert result.objective == pytest.approx(539.0, abs=1e-6)
    assert result.solution.breakdown() == pytest.approx(
        {
            "sales_revenue": 1063,
            "production_cost": 264,
            "changeover_cost": 20,
            "storage_cost": 60,
            "backlog_cost": 180,
            "waste_cost": 0,
        }
    )


def test_example1_without_switch_c6_keeps_490(lakhdar_document: dict[str, Any]) -> None:
    """(C6) is implied by the other constraints: switching it off leaves the optimum."""
    lakhdar_document["conventions"]["dsp_single_lead_time_per_suite_and_period"] = False
    problem = parse_campaign(lakhdar_document)
    assert problem.single_dsp_lead_time_per_suite_and_period is False
    assert solved(problem).objective == pytest.approx(490.0, abs=1e-6)


def test_hand_computed_single_period_plan() -> None:
    """One period: 5 USP and 5 DSP batches sold at 20, cost 2 each, two changeovers: 78."""
    result = solved(parse_campaign(_one_period_document()))
    assert result.objective == pytest.approx(78.0)
    batches = sorted((c.suite, c.batches, c.lead_time) for c in result.solution.campaigns)
    assert batches == [("d", 5, True), ("u", 5, True)]


def test_checker_rejects_tampered_plans() -> None:
    """Wrong batch counts, missing campaign starts and early deliveries are reported."""
    problem = read_campaign(LAKHDAR_EXAMPLE1)
    result = solve(problem, time_limit=60)
    solution = result.solution
    assert solution is not None
    first = solution.campaigns[0]
    more = dataclasses.replace(first, batches=first.batches + 1)
    report = check_campaign_solution(
        problem, dataclasses.replace(solution, campaigns=(more, *solution.campaigns[1:]))
    )
    assert any("(C1)/(C2)" in line for line in report.violations)
    not_new = dataclasses.replace(first, new_campaign=False, lead_time=False)
    report = check_campaign_solution(
        problem, dataclasses.replace(solution, campaigns=(not_new, *solution.campaigns[1:]))
    )
    assert any("must start a new campaign" in line for line in report.violations)
    row = solution.products[0]
    early = dataclasses.replace(row, sales_batches=row.sales_batches + 1)
    report = check_campaign_solution(
        problem, dataclasses.replace(solution, products=(early, *solution.products[1:]))
    )
    assert not report.ok
    report = check_campaign_solution(problem, solution, (result.objective or 0) + 1)
    assert any(line.startswith("objective") for line in report.violations)


def _one_period_document() -> dict[str, Any]:
    stage = {
        "rate_batches_per_d": 0.1,
        "lead_time_d": 10,
        "campaign_min_d": 0,
        "campaign_max_d": 60,
        "storage_capacity_batches": 10,
        "storage_cost_per_batch_period": 1,
        "shelf_life_periods": 1,
    }
    return {
        "format": "opencdmo-campaign/1",
        "id": "one_period",
        "periods": {"count": 1, "length_d": 60},
        "products": [
            {
                "name": "mab",
                "sales_price_per_batch": 20,
                "production_cost_per_batch": 2,
                "changeover_cost_per_campaign": 1,
                "backlog_penalty_per_batch_period": 20,
                "waste_cost_per_batch": 5,
                "dsp_batches_per_usp_batch": 1,
                "usp": dict(stage),
                "dsp": dict(stage),
            }
        ],
        "suites": [
            {"name": "u", "stage": "usp", "products": ["mab"]},
            {"name": "d", "stage": "dsp", "products": ["mab"]},
        ],
        "demand": [{"product": "mab", "period": 1, "batches": 5}],
        "conventions": {
            "period_model": "lakhdar2005",
            "one_product_per_suite_and_period": True,
            "dsp_lead_time_trigger": "usp_and_dsp_start_same_period",
            "dsp_single_lead_time_per_suite_and_period": True,
            "crude_shelf_life_basis": "dsp_batches",
            "shelf_life_window": "truncated_at_horizon",
            "backlog": "cumulative_unmet_demand_penalised_each_period",
        },
    }


@pytest.mark.parametrize(
    ("rate", "lead_d", "min_d", "max_d"),
    [(0.05, 30, 20, 60), (0.045, 32, 21, 60), (0.08, 22.5, 12.5, 60), (0.1, 44.5, 10, 60)],
)
def test_batch_bounds_keep_every_integer_point(
    rate: float, lead_d: float, min_d: float, max_d: float
) -> None:
    """The rounded batch bounds hold at every whole batch count that (C1) and (C8) allow."""
    model = LinearModel()
    runs, lead, days, batches = (model.add_var() for _ in range(4))
    item = _Assignment("s", Stage.DSP, "p", 1, runs, lead, lead, days, batches)
    data = StageData(rate, lead_d, min_d, max_d, 1.0, 0.0, 1)
    _add_valid_inequalities(model, item, data, max_d, 1.0)
    points = [(0, 0, 0.0, 0)]
    for whole in range(20):
        for with_lead in (0, 1):
            needed = (whole - with_lead) / rate + with_lead * lead_d
            if min_d - 1e-9 <= needed <= max_d + 1e-9:
                points.append((1, with_lead, needed, whole))
    assert len(points) > 4
    for point in points:
        for row in range(model.num_rows):
            span = range(model.row_start[row], model.row_start[row + 1])
            level = sum(model.row_value[k] * point[model.row_index[k]] for k in span)
            assert model.row_lower[row] - 1e-9 <= level <= model.row_upper[row] + 1e-9, point


@pytest.mark.parametrize(
    ("path", "optimum"),
    [(LAKHDAR_EXAMPLE1, 490.0), (DATA / "lakhdar2005_example2.json", 539.0)],
)
def test_lead_necessity_rows_keep_every_plan(path: Path, optimum: float) -> None:
    """The tightened formulation has the same optimum, and the base model's optimal plan
    satisfies every added row (they are valid inequalities, not heuristics)."""
    problem = read_campaign(path)
    model, assignments, flows, _ = _build(problem)
    keys = [a.runs for a in assignments]
    base = solve_in_phases([model], keys, maximise=True, time_limit_s=60, searches=1, seed=0)
    assert base.values is not None
    tightened = copy.deepcopy(model)
    _add_lead_necessity(problem, tightened, assignments, flows)
    assert tightened.num_rows > model.num_rows
    for row in range(model.num_rows, tightened.num_rows):
        span = range(tightened.row_start[row], tightened.row_start[row + 1])
        level = sum(tightened.row_value[k] * base.values[tightened.row_index[k]] for k in span)
        assert level >= tightened.row_lower[row] - 1e-6
    again = solve_in_phases([tightened], keys, maximise=True, time_limit_s=60, searches=1, seed=0)
    assert again.status is SolveStatus.OPTIMAL
    assert again.objective == pytest.approx(optimum)
