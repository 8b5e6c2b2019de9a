"""Lower bounds without a solver hold in every schedule and count what is unavoidable."""

from __future__ import annotations

import random
from typing import Any

import pytest

from opencdmo.engines.planning import (
    SolveStatus,
    parse_schedule,
    solve,
)
from opencdmo.engines.planning.schedule import solver as schedule_solver
from opencdmo.engines.planning.schedule.bound import (
    crowded_windows_bound,
    earliest_ends,
    first_level_bound,
    switches_needed,
)
from opencdmo.engines.planning.schedule.decomposition import suite_groups
from tests.engines.planning.test_schedule_solver import _one_suite


def test_unavoidable_tardiness_follows_the_upstream_chain_and_downtimes() -> None:
    """USP 0–10 h, DSP after a 2 h gap but a downtime until 20 h: ends at 30 h, 20 h late."""
    doc = _one_suite(["P"], changeover_h=0)
    doc["suites"].append({"name": "D", "downtimes": [{"start_h": 12, "end_h": 20}]})
    doc["batches"].append(
        {
            "id": "d",
            "product": "P",
            "options": [{"suite": "D", "duration_h": 10}],
            "upstream": "b0",
            "min_gap_h": 2,
            "due_h": 10,
            "tardiness_weight": 2,
        }
    )
    doc["objective"] = {"levels": [[{"kind": "weighted_tardiness"}]]}
    problem = parse_schedule(doc)
    assert earliest_ends(problem)["d"] == 30
    assert first_level_bound(problem) == pytest.approx(40.0)


def test_changeover_bound_counts_campaigns_beyond_the_suites() -> None:
    """Campaigns of at most 2: three P and two Q batches on one suite switch at least twice."""
    doc = _one_suite(["P", "P", "P", "Q", "Q"], changeover_h=1)
    doc["products"] = [
        {"name": "P", "campaign_max_batches": 2},
        {"name": "Q", "campaign_max_batches": 2},
    ]
    doc["objective"] = {"levels": [[{"kind": "changeover_cost", "weight": 3}]]}
    assert first_level_bound(parse_schedule(doc)) == pytest.approx(3 * 2 * 1.0)


def _two_crowded_windows(*, deadlines: bool) -> dict[str, Any]:
    """P and Q both ready at 0 and again at 100 on one suite, each due (or dead) 20 h later."""
    batches = []
    for ready in (0, 100):
        for product in ("P", "Q"):
            batch: dict[str, Any] = {
                "id": f"{product}{ready}",
                "product": product,
                "options": [{"suite": "S", "duration_h": 10}],
                "release_h": ready,
            }
            if deadlines:
                batch["deadline_h"] = ready + 20
            else:
                batch |= {"due_h": ready + 20, "tardiness_weight": 5}
            batches.append(batch)
    terms = [{"kind": "changeover_cost"}]
    if not deadlines:
        terms.append({"kind": "weighted_tardiness"})
    return {
        "format": "opencdmo-schedule/1",
        "id": "crowded",
        "horizon_h": 300,
        "suites": [{"name": "S"}],
        "products": [{"name": "P"}, {"name": "Q"}],
        "changeovers": [
            {"from_product": a, "to_product": b, "duration_h": 0, "cost": 20}
            for a, b in (("P", "Q"), ("Q", "P"))
        ],
        "batches": batches,
        "objective": {"levels": [terms]},
    }


@pytest.mark.parametrize("deadlines", [False, True])
def test_crowded_windows_count_switches_the_campaign_count_misses(deadlines: bool) -> None:
    """Two products twice, far apart: 2 switches, where counting campaigns alone finds 1.

    Keeping a product out of either window costs 5 per hour late, or breaks a deadline, so
    each window switches once; the bound reaches the proven optimum of 40.
    """
    problem = parse_schedule(_two_crowded_windows(deadlines=deadlines))
    assert switches_needed(problem, ["S"]) == 1
    assert first_level_bound(problem) == pytest.approx(40.0)
    result = solve(problem, time_limit=20, seed=0)
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(40.0)


def test_keeping_a_product_out_is_cheaper_than_switching() -> None:
    """At 0.1 per hour late, waiting from 0 to 100 h costs 9, less than a switch of 20.

    The first window then costs 9 and the second, where waiting runs past the horizon, one
    switch: 29. The optimum (31) runs P, P, Q, Q with one switch and 101 h of lateness.
    """
    doc = _two_crowded_windows(deadlines=False)
    for batch in doc["batches"]:
        batch["tardiness_weight"] = 0.1
    problem = parse_schedule(doc)
    assert first_level_bound(problem) == pytest.approx(29.0)
    assert crowded_windows_bound(problem, ["S"], earliest_ends(problem), 1.0, 20.0) == (
        pytest.approx(29.0)
    )
    result = solve(problem, time_limit=20, seed=0)
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == pytest.approx(31.0)


def _random_instance(rng: random.Random, n: int) -> dict[str, Any]:
    """Eight batches of three products on two suites (one with a downtime), some chained."""
    products = ["A", "B", "C"]
    batches = []
    for k in range(8):
        release = rng.randrange(0, 120, 5)
        options = [
            {"suite": suite, "duration_h": rng.choice((10, 15, 20))}
            for suite in rng.sample(["S1", "S2"], rng.choice((1, 2)))
        ]
        batch: dict[str, Any] = {
            "id": f"b{k}",
            "product": rng.choice(products),
            "options": options,
            "release_h": release,
            "due_h": release + 20 + rng.randrange(0, 40, 5),
            "tardiness_weight": rng.choice((0.5, 1, 3)),
        }
        if k >= 4 and rng.random() < 0.3:
            batch["upstream"] = f"b{k - 4}"
            batch["min_gap_h"] = rng.choice((0, 5))
        batches.append(batch)
    return {
        "format": "opencdmo-schedule/1",
        "id": f"random_{n}",
        "horizon_h": 400,
        "suites": [{"name": "S1"}, {"name": "S2", "downtimes": [{"start_h": 60, "end_h": 90}]}],
        "products": [{"name": p} for p in products],
        "changeovers": [
            {"from_product": a, "to_product": b, "duration_h": 5, "cost": rng.choice((8, 15, 30))}
            for a in products
            for b in products
            if a != b
        ],
        "batches": batches,
        "objective": {"levels": [[{"kind": "weighted_tardiness"}, {"kind": "changeover_cost"}]]},
    }


def test_bound_never_exceeds_a_proven_optimum() -> None:
    """Sixteen random two-suite instances, each solved to proven optimality: bound ≤ optimum.

    The crowded windows must also lift the bound above the campaign count on some of them,
    or this would not test them.
    """
    rng = random.Random(11)
    lifted = 0
    for n in range(16):
        problem = parse_schedule(_random_instance(rng, n))
        result = solve(problem, time_limit=30, threads=2, seed=0)
        assert result.status is SolveStatus.OPTIMAL
        assert result.objective is not None
        bound = first_level_bound(problem)
        assert bound <= result.objective + 1e-6, (n, bound, result.objective)
        campaigns_only = sum(
            switches_needed(problem, suites) * min(c.cost for c in problem.changeovers)
            for suites in suite_groups(problem)
        )
        lifted += bound > campaigns_only + 1e-6
    assert lifted >= 3


def test_meeting_the_bound_is_optimal_without_a_cp_sat_proof() -> None:
    """One level: a schedule at the proven bound is optimal even if no part proved it; with
    two levels the later one still needs its proof. Short of a proof, the status says
    whether the time limit stopped the search (``time_limit``) or it ended by itself."""
    unproved = [schedule_solver._Outcome([], 40.0, optimal=False, infeasible=False)]
    status = schedule_solver._status
    assert status(1, unproved, 40.0, 40.0, time_out=True) is SolveStatus.OPTIMAL
    assert status(1, unproved, 41.0, 40.0, time_out=True) is SolveStatus.TIME_LIMIT
    assert status(1, unproved, 41.0, 40.0, time_out=False) is SolveStatus.FEASIBLE
    assert status(2, unproved, 40.0, 40.0, time_out=True) is SolveStatus.TIME_LIMIT
    assert status(2, unproved, 40.0, 40.0, time_out=False) is SolveStatus.FEASIBLE
    proved = [schedule_solver._Outcome([], 40.0, optimal=True, infeasible=False)]
    assert status(2, proved, 40.0, 40.0, time_out=False) is SolveStatus.OPTIMAL
    assert status(1, unproved, None, 40.0, time_out=False) is SolveStatus.TIME_LIMIT
