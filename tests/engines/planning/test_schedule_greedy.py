"""The constructive schedule that starts the CP-SAT search is feasible when it exists."""

from __future__ import annotations

import random
from typing import Any

import pytest

from opencdmo.engines.planning import (
    Changeover,
    Downtime,
    ObjectiveKind,
    ObjectiveTerm,
    PreviousAssignment,
    ScheduleBatch,
    ScheduleProblem,
    ScheduleProduct,
    ScheduleSolution,
    ScheduleSuite,
    SuiteOption,
    check_schedule_solution,
    parse_schedule,
)
from opencdmo.engines.planning.schedule import solver as schedule_solver
from opencdmo.engines.planning.schedule.evaluation import evaluate_schedule
from opencdmo.engines.planning.schedule.greedy import (
    PrefixGreedy,
    chain_roots,
    greedy_schedule,
    repair_schedule,
)
from opencdmo.engines.planning.schedule.solution import ScheduledBatch
from tests.engines.planning.test_schedule_solver import _one_suite


def test_hold_time_delays_the_upstream_batch() -> None:
    """DSP busy until 30 h and a 5 h hold: the USP batch is pushed so DSP starts within 5 h."""
    doc = _one_suite(["P"], changeover_h=0)
    doc["suites"].append({"name": "D"})
    doc["batches"] = [
        {"id": "busy", "product": "P", "options": [{"suite": "D", "duration_h": 30}], "due_h": 1},
        {"id": "u", "product": "P", "options": [{"suite": "S", "duration_h": 10}], "due_h": 50},
        {
            "id": "d",
            "product": "P",
            "options": [{"suite": "D", "duration_h": 10}],
            "upstream": "u",
            "max_hold_h": 5,
        },
    ]
    problem = parse_schedule(doc)
    placed = greedy_schedule(problem)
    assert placed is not None
    by_id = {b.batch: b for b in placed}
    assert by_id["d"].start_h - by_id["u"].end_h <= 5
    assert by_id["d"].start_h >= 30
    solution = ScheduleSolution(tuple(placed), *evaluate_schedule(problem, placed))
    assert check_schedule_solution(problem, solution).ok


def test_campaign_maximum_postpones_a_batch() -> None:
    """With campaigns of at most one P batch, the Q batch is placed between the two P batches."""
    doc = _one_suite(["P", "P", "Q"], changeover_h=2)
    doc["products"] = [{"name": "P", "campaign_max_batches": 1}, {"name": "Q"}]
    problem = parse_schedule(doc)
    placed = greedy_schedule(problem)
    assert placed is not None
    order = [b.product for b in sorted(placed, key=lambda b: b.start_h)]
    assert order == ["P", "Q", "P"]
    solution = ScheduleSolution(tuple(placed), *evaluate_schedule(problem, placed))
    assert check_schedule_solution(problem, solution).ok


def _checked(problem: ScheduleProblem, placed: list[ScheduledBatch] | None) -> dict[str, Any]:
    assert placed is not None
    solution = ScheduleSolution(tuple(placed), *evaluate_schedule(problem, placed))
    report = check_schedule_solution(problem, solution)
    assert report.ok, report.violations
    return {b.batch: b for b in placed}


def test_frozen_batches_stay_and_the_rest_goes_around_them() -> None:
    """b1 is frozen at 12 h on a 10 h suite: b0 fits before it, b2 after it."""
    doc = _one_suite(["P", "P", "P"], changeover_h=0)
    doc["batches"][1].update(previous={"suite": "S", "start_h": 12}, frozen=True)
    problem = parse_schedule(doc)
    placed = _checked(problem, greedy_schedule(problem))
    assert placed["b1"].start_h == 12
    assert (placed["b0"].start_h, placed["b2"].start_h) == (0, 22)


def _frozen_chain(frozen: str, start_h: int) -> ScheduleProblem:
    """USP ``u`` (10 h on S) feeds DSP ``d`` (10 h on D) within 5 h; one of them is frozen."""
    doc = _one_suite(["P"], changeover_h=0)
    doc["suites"].append({"name": "D"})
    doc["batches"] = [
        {"id": "u", "product": "P", "options": [{"suite": "S", "duration_h": 10}]},
        {
            "id": "d",
            "product": "P",
            "options": [{"suite": "D", "duration_h": 10}],
            "upstream": "u",
            "max_hold_h": 5,
            "due_h": 100,
        },
    ]
    suite = {"u": "S", "d": "D"}[frozen]
    doc["batches"][0 if frozen == "u" else 1].update(
        previous={"suite": suite, "start_h": start_h}, frozen=True
    )
    return parse_schedule(doc)


def test_a_frozen_upstream_batch_places_its_downstream_within_the_hold() -> None:
    """u frozen at 40 h: d starts as soon as u ends, at 50 h."""
    problem = _frozen_chain("u", 40)
    placed = _checked(problem, greedy_schedule(problem))
    assert (placed["u"].start_h, placed["d"].start_h) == (40, 50)


def test_a_frozen_downstream_batch_pulls_its_upstream_batch_late() -> None:
    """d frozen at 60 h with a 5 h hold: u must end between 55 h and 60 h."""
    problem = _frozen_chain("d", 60)
    placed = _checked(problem, greedy_schedule(problem))
    assert 55 <= placed["u"].end_h <= 60
    assert placed["d"].start_h == 60


def test_a_frozen_downstream_batch_too_early_leaves_no_greedy_schedule() -> None:
    """d frozen at 5 h cannot follow a 10 h u: the greedy says so, it does not guess."""
    problem = _frozen_chain("d", 5)
    assert greedy_schedule(problem) is None


def test_a_later_chain_fills_an_earlier_gap() -> None:
    """A batch released late is placed first; an early batch then fits in the gap before it."""
    doc = _one_suite(["P", "P"], changeover_h=0)
    doc["batches"][0].update(release_h=100, due_h=110)
    doc["batches"][1].update(due_h=200)
    problem = parse_schedule(doc)
    placed = {b.batch: b for b in greedy_schedule(problem) or []}
    assert placed["b0"].start_h == 100
    assert placed["b1"].start_h == 0


@pytest.mark.parametrize(("second_release_h", "q_start_h"), [(30, 15), (29, 44)])
def test_insertion_keeps_changeovers_on_both_sides(second_release_h: int, q_start_h: int) -> None:
    """A Q batch fits between P batches at 0 h and 30 h with 5 h changeovers, not before 29 h."""
    doc = _one_suite(["P", "P", "Q"], changeover_h=5)
    doc["batches"][0].update(release_h=0, due_h=10)
    doc["batches"][1].update(release_h=second_release_h, due_h=second_release_h + 10)
    doc["batches"][2].update(release_h=0, due_h=200)
    problem = parse_schedule(doc)
    placed = greedy_schedule(problem)
    assert placed is not None
    solution = ScheduleSolution(tuple(placed), *evaluate_schedule(problem, placed))
    assert check_schedule_solution(problem, solution).ok
    by_id = {b.batch: b for b in placed}
    assert by_id["b2"].start_h == q_start_h


def _chained_instance(rng: random.Random) -> ScheduleProblem:
    """Thirty chains of three products on four suites, hold times, campaigns of at most 3."""
    products = ("A", "B", "C")
    batches = []
    for n in range(30):
        product = rng.choice(products)
        release = rng.randrange(0, 300, 10)
        batches.append(
            ScheduleBatch(
                f"u{n}",
                product,
                (SuiteOption("U1", rng.choice((20, 30))), SuiteOption("U2", 25)),
                release_h=release,
            )
        )
        batches.append(
            ScheduleBatch(
                f"d{n}",
                product,
                (SuiteOption("D1", 10), SuiteOption("D2", rng.choice((10, 15)))),
                due_h=release + rng.randrange(40, 200, 10),
                tardiness_weight=rng.choice((1.0, 3.0)),
                upstream=f"u{n}",
                max_hold_h=30,
            )
        )
    return ScheduleProblem(
        id="chained",
        horizon_h=3000,
        suites=(
            ScheduleSuite("U1", downtimes=(Downtime(200, 260),)),
            ScheduleSuite("U2"),
            ScheduleSuite("D1"),
            ScheduleSuite("D2"),
        ),
        products=tuple(ScheduleProduct(p, 1, 3) for p in products),
        batches=tuple(batches),
        changeovers=tuple(
            Changeover(a, b, 8, 10.0, None) for a in products for b in products if a != b
        ),
        objective=(
            (
                ObjectiveTerm(ObjectiveKind.WEIGHTED_TARDINESS),
                ObjectiveTerm(ObjectiveKind.CHANGEOVER_COST),
            ),
        ),
    )


@pytest.mark.parametrize("frozen_before_h", [None, 150])
def test_prefix_greedy_matches_the_full_greedy_after_every_move(
    frozen_before_h: int | None,
) -> None:
    """Resuming from the kept order's prefix places exactly what a fresh greedy places, also
    around frozen batches, and every schedule passes the checker."""
    rng = random.Random(5)
    problem = _chained_instance(rng)
    if frozen_before_h is not None:
        problem = problem.with_plan_in_force(greedy_schedule(problem) or [], frozen_before_h)
        assert sum(b.frozen for b in problem.batches) > 10
    order = chain_roots(problem)
    greedy = PrefixGreedy(problem)
    first = greedy.schedule(order)
    assert first is not None
    assert first == greedy_schedule(problem, order)
    greedy.keep()
    resumed = 0
    for _ in range(40):
        source, target = rng.randrange(len(order)), rng.randrange(len(order))
        candidate = list(order)
        candidate.insert(target, candidate.pop(source))
        placed = greedy.schedule(candidate, unchanged=min(source, target))
        assert placed == greedy_schedule(problem, candidate)
        if placed is not None:
            _checked(problem, placed)
        resumed += min(source, target) > 0
        if rng.random() < 0.5:
            order = candidate
            greedy.keep()
    assert resumed > 20


def test_repair_keeps_what_still_fits_and_moves_only_the_displaced_batch() -> None:
    """Four published 10 h batches at 0, 20, 40 and 60 h; the suite goes down at [15, 35):
    only b1 moves, into the first gap left between the others (50 h), and nothing overlaps."""
    doc = _one_suite(["P", "P", "P", "P"], changeover_h=0)
    for n, batch in enumerate(doc["batches"]):
        batch.update(previous={"suite": "S", "start_h": 20 * n}, due_h=200)
    doc["suites"][0]["downtimes"] = [{"start_h": 15, "end_h": 35}]
    problem = parse_schedule(doc)
    placed = _checked(problem, repair_schedule(problem))
    assert {b: item.start_h for b, item in placed.items()} == {
        "b0": 0,
        "b1": 50,
        "b2": 40,
        "b3": 60,
    }
    assert schedule_solver._published(problem) is not None
    assert not schedule_solver._feasible(problem, schedule_solver._published(problem) or [])


def test_repair_fits_a_new_batch_into_a_gap_of_the_published_plan() -> None:
    """b0 and b1 published at 0 and 30 h, b2 new: b2 takes the gap at 10 h, nothing moves."""
    doc = _one_suite(["P", "P", "P"], changeover_h=0)
    doc["batches"][0].update(previous={"suite": "S", "start_h": 0})
    doc["batches"][1].update(previous={"suite": "S", "start_h": 30})
    problem = parse_schedule(doc)
    placed = _checked(problem, repair_schedule(problem))
    assert {b: item.start_h for b, item in placed.items()} == {"b0": 0, "b1": 30, "b2": 10}


def test_a_frozen_batch_sends_its_downstream_batch_to_the_suite_that_keeps_the_hold() -> None:
    """F is frozen on S1 until 10 h and C must start by 15 h. S2 is cheaper for C but down
    until 30 h; S3 keeps the hold (after the frozen X), so C goes there instead of the
    greedy giving up on a parent it cannot delay."""
    suites = (
        ScheduleSuite("S1"),
        ScheduleSuite("S2", downtimes=(Downtime(10, 30),)),
        ScheduleSuite("S3"),
    )
    batches = (
        ScheduleBatch(
            "F", "P", (SuiteOption("S1", 10),), previous=PreviousAssignment("S1", 0), frozen=True
        ),
        ScheduleBatch(
            "X", "Q", (SuiteOption("S3", 10),), previous=PreviousAssignment("S3", 0), frozen=True
        ),
        ScheduleBatch(
            "C",
            "P",
            (SuiteOption("S2", 10), SuiteOption("S3", 10)),
            upstream="F",
            max_hold_h=5,
        ),
    )
    problem = ScheduleProblem(
        id="hold_after_frozen",
        horizon_h=200,
        suites=suites,
        products=(ScheduleProduct("P"), ScheduleProduct("Q")),
        batches=batches,
        changeovers=(Changeover("Q", "P", 0, 100.0),),
    )
    for placed in (greedy_schedule(problem), repair_schedule(problem)):
        assert _checked(problem, placed)["C"].suite == "S3"
