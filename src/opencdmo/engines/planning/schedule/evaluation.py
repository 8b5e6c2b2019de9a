"""Objective terms of a suite schedule, computed from the placed batches alone."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from opencdmo.engines.planning.schedule.problem import ObjectiveKind, ScheduleProblem
from opencdmo.engines.planning.schedule.solution import ScheduledBatch


def suite_sequences(batches: Iterable[ScheduledBatch]) -> dict[str, list[ScheduledBatch]]:
    """Batches of each suite in processing order (by start, then end)."""
    sequences: dict[str, list[ScheduledBatch]] = {}
    for batch in batches:
        sequences.setdefault(batch.suite, []).append(batch)
    for sequence in sequences.values():
        sequence.sort(key=lambda b: (b.start_h, b.end_h, b.batch))
    return sequences


def evaluate_schedule(
    problem: ScheduleProblem, batches: Iterable[ScheduledBatch]
) -> tuple[dict[str, float], tuple[float, ...]]:
    """Value of every objective term and of every lexicographic level.

    Parameters
    ----------
    problem
        The instance.
    batches
        The placed batches.

    Returns
    -------
    tuple
        ``terms`` (kind → value) and ``levels`` (weighted sums of terms, in level order).
    """
    placed = list(batches)
    tardiness = 0.0
    increase = 0.0
    changes = 0.0
    for item in placed:
        batch = problem.batch_by_id[item.batch]
        if batch.due_h is not None:
            tardiness += batch.tardiness_weight * max(0, item.end_h - batch.due_h)
            late_from = batch.late_from_h(ObjectiveKind.LATENESS_INCREASE)
            assert late_from is not None
            increase += batch.tardiness_weight * max(0, item.end_h - late_from)
        if batch.previous is not None:
            changes += problem.move_cost_per_h * abs(item.start_h - batch.previous.start_h)
            if item.suite != batch.previous.suite:
                changes += problem.suite_change_cost
    changeover = 0.0
    for suite, sequence in suite_sequences(placed).items():
        for first, second in itertools.pairwise(sequence):
            changeover += problem.changeover(suite, first.product, second.product)[1]
    terms = {
        ObjectiveKind.WEIGHTED_TARDINESS.value: tardiness,
        ObjectiveKind.LATENESS_INCREASE.value: increase,
        ObjectiveKind.MAKESPAN.value: float(max((b.end_h for b in placed), default=0)),
        ObjectiveKind.CHANGEOVER_COST.value: changeover,
        ObjectiveKind.SCHEDULE_CHANGES.value: changes,
    }
    levels = tuple(
        sum(term.weight * terms[term.kind.value] for term in level) for level in problem.objective
    )
    return terms, levels
