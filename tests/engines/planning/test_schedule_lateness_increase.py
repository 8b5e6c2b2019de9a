"""``lateness_increase``: a repair after a breakdown counts only the lateness it adds.

One suite; as published, B runs [0, 10) (due 100), A [10, 20) although due at 12 (8 h late),
C [25, 35) (due 60). A breakdown stops the suite in [25, 35), so C must move. Minimising
plain lateness first also swaps A and B to put A on time; counting only added lateness
moves C alone.
"""

from __future__ import annotations

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
from opencdmo.engines.planning.schedule.bound import first_level_bound
from opencdmo.engines.planning.schedule.evaluation import evaluate_schedule
from opencdmo.engines.planning.schedule.problem import Downtime
from opencdmo.engines.planning.schedule.solution import ScheduledBatch

PUBLISHED = {"B": (0, 100), "A": (10, 12), "C": (25, 60)}
"""Batch → (published start, due)."""


def _broken_down(first: ObjectiveKind) -> ScheduleProblem:
    batches = tuple(
        ScheduleBatch(
            name, "P", (SuiteOption("S", 10),), due_h=due, previous=PreviousAssignment("S", start)
        )
        for name, (start, due) in PUBLISHED.items()
    )
    return ScheduleProblem(
        "breakdown",
        200,
        (ScheduleSuite("S", downtimes=(Downtime(25, 35, "breakdown"),)),),
        (ScheduleProduct("P"),),
        batches,
        objective=((ObjectiveTerm(first),), (ObjectiveTerm(ObjectiveKind.SCHEDULE_CHANGES),)),
    )


def _placed(problem: ScheduleProblem) -> dict[str, tuple[int, int]]:
    result = solve(problem, time_limit=10)
    assert result.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
    assert result.solution is not None
    assert check_schedule_solution(problem, result.solution, result.objective).ok
    assert first_level_bound(problem) <= result.objective
    return {b.batch: (b.start_h, b.end_h) for b in result.solution.batches}


def test_a_repair_moves_only_the_batch_the_breakdown_hit() -> None:
    """A stays 8 h late as published; only C moves, past the breakdown."""
    placed = _placed(_broken_down(ObjectiveKind.LATENESS_INCREASE))
    assert placed == {"B": (0, 10), "A": (10, 20), "C": (35, 45)}


def test_plain_lateness_first_also_reshuffles_what_was_late_before() -> None:
    """The contrast: with weighted_tardiness first, A and B swap as well."""
    placed = _placed(_broken_down(ObjectiveKind.WEIGHTED_TARDINESS))
    assert placed == {"A": (0, 10), "B": (10, 20), "C": (35, 45)}


def test_lateness_counts_from_the_later_of_due_date_and_published_end() -> None:
    """Worked by hand: A ending at 27 is 15 h past due but 7 h past its published end (20);
    C ending at 70 is 10 h past both its due (60) and its published end (35)."""
    problem = _broken_down(ObjectiveKind.LATENESS_INCREASE)
    placed = [
        ScheduledBatch("B", "P", "S", 0, 10),
        ScheduledBatch("A", "P", "S", 17, 27),
        ScheduledBatch("C", "P", "S", 60, 70),
    ]
    terms, levels = evaluate_schedule(problem, placed)
    assert terms["weighted_tardiness"] == 15 + 10
    assert terms["lateness_increase"] == 7 + 10
    assert levels[0] == 17


def test_the_published_end_uses_the_shortest_duration_when_its_suite_is_gone() -> None:
    """A batch published on a suite no longer among its options ends, as published, after
    its shortest duration; one never published counts from its due date."""
    moved = ScheduleBatch(
        "m",
        "P",
        (SuiteOption("T", 12), SuiteOption("U", 9)),
        due_h=5,
        previous=PreviousAssignment("gone", 40),
    )
    assert moved.published_end_h == 49
    assert moved.late_from_h(ObjectiveKind.LATENESS_INCREASE) == 49
    assert moved.late_from_h(ObjectiveKind.WEIGHTED_TARDINESS) == 5
    new = ScheduleBatch("n", "P", (SuiteOption("T", 12),), due_h=5)
    assert new.late_from_h(ObjectiveKind.LATENESS_INCREASE) == 5
