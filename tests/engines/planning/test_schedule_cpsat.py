"""The CP-SAT model leaves out sequence arcs that fixed runs rule out, and only those."""

from __future__ import annotations

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
    SuiteOption,
)
from opencdmo.engines.planning.schedule.cpsat import build_model
from tests.engines.planning.test_schedule_solver import solved

OPTION = (SuiteOption("S", 10),)


def _problem(fixed: ScheduleBatch) -> ScheduleProblem:
    """``a`` must end by 40, ``b`` starts from 70, and ``fixed`` sits at [50, 60)."""
    return ScheduleProblem(
        id="fixed_run",
        horizon_h=200,
        suites=(ScheduleSuite("S"),),
        products=(ScheduleProduct("P"), ScheduleProduct("Q")),
        batches=(
            ScheduleBatch("a", "P", OPTION, release_h=0, deadline_h=40),
            ScheduleBatch("b", "P", OPTION, release_h=70),
            fixed,
        ),
        changeovers=(Changeover("P", "Q", 0, 1.0), Changeover("Q", "P", 0, 1.0)),
        objective=((ObjectiveTerm(ObjectiveKind.CHANGEOVER_COST),),),
    )


PINNED = ScheduleBatch("c", "Q", OPTION, release_h=50, deadline_h=60)
FROZEN = ScheduleBatch("c", "Q", OPTION, previous=PreviousAssignment("S", 50), frozen=True)


@pytest.mark.parametrize("fixed", [PINNED, FROZEN], ids=["pinned", "frozen"])
def test_a_fixed_run_between_two_batches_forbids_the_arc(fixed: ScheduleBatch) -> None:
    """``b`` cannot follow ``a`` directly, nor start or end the sequence past ``c``; the
    schedule a, c, b with its two switches stays optimal."""
    problem = _problem(fixed)
    arcs = build_model(problem).arcs
    assert ("S", "a", "b") not in arcs
    assert {("S", "a", "c"), ("S", "c", "b")} <= set(arcs)
    result = solved(problem)
    assert result.objective == pytest.approx(2.0)
    order = [b.batch for b in sorted(result.solution.batches, key=lambda b: b.start_h)]
    assert order == ["a", "c", "b"]


def test_a_run_that_can_move_forbids_nothing() -> None:
    """Without its deadline ``c`` may run after ``b``, so ``a`` → ``b`` stays possible."""
    arcs = build_model(_problem(ScheduleBatch("c", "Q", OPTION, release_h=50))).arcs
    assert ("S", "a", "b") in arcs
