"""Progress reports and cancellation of every long solve: a cancel from another thread ends the
solve within about a second with the best result so far, checked; reports carry the incumbent
objective and bound."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from opencdmo.engines.planning import (
    CampaignProblem,
    FjspProblem,
    Result,
    ScheduleProblem,
    SolveStatus,
    StnProblem,
    parse_schedule,
    parse_stn,
    read_campaign,
    read_fjsp,
    solve,
)
from opencdmo.engines.planning.registry import kind_of
from opencdmo.engines.progress import CancelToken, Progress
from tests.engines.planning.conftest import BENCHMARKS, KONDILI, load

CANCEL_AFTER_S = 2.5
PROMPT_S = 1.5
"""A cancelled solve must return within this long after the cancel (a second, with room for
a loaded test machine)."""
LONG_S = 60.0


def _kondili_long() -> StnProblem:
    document = load(KONDILI)
    document["time"]["horizon_h"] = 168
    return parse_stn(document)


def _campaign_long() -> CampaignProblem:
    return read_campaign(BENCHMARKS / "lakhdar2005_example2_modified.json")


def _fjsp_long() -> FjspProblem:
    return read_fjsp(BENCHMARKS / "fjsp" / "mk05.fjs")


def _schedule_long() -> ScheduleProblem:
    """Forty batches of four products on two interchangeable suites, with changeovers and due
    dates: CP-SAT does not prove it within minutes."""
    rng = random.Random(5)
    products = ["P1", "P2", "P3", "P4"]
    batches = [
        {
            "id": f"B{n}",
            "product": rng.choice(products),
            "options": [
                {"suite": "S1", "duration_h": rng.randint(20, 60)},
                {"suite": "S2", "duration_h": rng.randint(20, 60)},
            ],
            "due_h": rng.randint(100, 900),
            "tardiness_weight": rng.randint(1, 5),
        }
        for n in range(40)
    ]
    return parse_schedule(
        {
            "format": "opencdmo-schedule/1",
            "id": "forty_batches",
            "horizon_h": 4000,
            "suites": [{"name": "S1"}, {"name": "S2"}],
            "products": [{"name": p} for p in products],
            "changeovers": [
                {"from_product": a, "to_product": b, "duration_h": 8 + 4 * i, "cost": 3 + i}
                for i, a in enumerate(products)
                for b in products
                if a != b
            ],
            "batches": batches,
            "objective": {
                "levels": [[{"kind": "weighted_tardiness"}, {"kind": "changeover_cost"}]]
            },
        }
    )


LONG_SOLVES: dict[str, Callable[[], Any]] = {
    "stn": _kondili_long,
    "campaign": _campaign_long,
    "schedule": _schedule_long,
    "fjsp": _fjsp_long,
}


def _cancelled_solve(problem: Any, threads: int) -> tuple[Result[Any], float, list[Progress]]:
    """Solve with a long limit, cancel from another thread; the result and the seconds from
    the cancel to the return."""
    token = CancelToken()
    reports: list[Progress] = []
    cancelled_at: list[float] = []

    def cancel_later() -> None:
        time.sleep(CANCEL_AFTER_S)
        cancelled_at.append(time.monotonic())
        token.cancel()

    threading.Thread(target=cancel_later, daemon=True).start()
    result = solve(
        problem, time_limit=LONG_S, threads=threads, progress=reports.append, cancel=token
    )
    returned = time.monotonic()
    assert cancelled_at, "the solve ended before the cancel: pick a longer instance"
    return result, returned - cancelled_at[0], reports


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("name", sorted(LONG_SOLVES))
def test_a_cancel_from_another_thread_ends_the_solve_within_a_second(
    name: str, threads: int
) -> None:
    """Every kind, on one core and racing on two: the solve returns promptly, says it was
    stopped, and its plan passes the independent checker."""
    problem = LONG_SOLVES[name]()
    result, after_cancel_s, _ = _cancelled_solve(problem, threads)
    assert after_cancel_s < PROMPT_S, f"{name} took {after_cancel_s:.2f} s after the cancel"
    assert result.cancelled
    assert result.document()["cancelled"] is True
    assert result.status in (SolveStatus.TIME_LIMIT, SolveStatus.OPTIMAL)
    assert result.solution is not None
    report = kind_of(problem).check(problem, result.solution, result.objective)
    assert report.ok, report.violations


@pytest.mark.parametrize("name", sorted(LONG_SOLVES))
def test_progress_reports_carry_the_incumbent_and_the_bound(name: str) -> None:
    """Reports arrive during the solve with the objective, the bound and the share of time."""
    problem = LONG_SOLVES[name]()
    _, _, reports = _cancelled_solve(problem, threads=1)
    assert reports
    assert any(r.objective is not None for r in reports)
    assert any(r.bound is not None for r in reports)
    fractions = [r.fraction for r in reports]
    latest = (CANCEL_AFTER_S + PROMPT_S + 1.0) / LONG_S
    assert all(f is not None and 0.0 <= f <= latest for f in fractions)


def test_the_reported_objective_is_the_result_s_own_unit() -> None:
    """The last makespan reported is the makespan returned (not CP-SAT's scaled value)."""
    problem = _fjsp_long()
    result, _, reports = _cancelled_solve(problem, threads=1)
    reported = [r.objective for r in reports if r.objective is not None]
    assert result.objective is not None
    assert min(reported) == pytest.approx(result.objective)


def test_a_solve_cancelled_before_it_starts_returns_a_plan_at_once() -> None:
    """A token cancelled beforehand: the schedule's greedy plan, no search."""
    token = CancelToken()
    token.cancel()
    started = time.monotonic()
    result = solve(_schedule_long(), time_limit=LONG_S, cancel=token)
    assert time.monotonic() - started < PROMPT_S
    assert result.cancelled
    assert result.solution is not None


def test_a_solve_without_a_token_is_not_marked_cancelled() -> None:
    """Without a token the document has no ``cancelled`` field, as before."""
    result = solve(read_fjsp(BENCHMARKS / "fjsp" / "mk01.fjs"), time_limit=2)
    assert not result.cancelled
    assert "cancelled" not in result.document()
