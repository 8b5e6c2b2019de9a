"""A suite schedule: where and when each batch runs, and the objective's parts."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from opencdmo.engines.planning import json_fields as jf
from opencdmo.engines.planning.result import GanttBar

if TYPE_CHECKING:
    from opencdmo.engines.planning.schedule.problem import ScheduleBatch, ScheduleProblem


@dataclass(frozen=True)
class ScheduledBatch:
    """Batch ``batch`` of ``product`` on ``suite`` over ``[start_h, end_h)``."""

    batch: str
    product: str
    suite: str
    start_h: int
    end_h: int

    @classmethod
    def published(cls, batch: ScheduleBatch) -> ScheduledBatch | None:
        """Where ``batch`` sits in the published schedule, or ``None`` when it has no
        published place on a suite it may use."""
        if batch.previous is None:
            return None
        suite, start = batch.previous.suite, batch.previous.start_h
        duration = batch.duration_on(suite)
        if duration is None:
            return None
        return cls(batch.id, batch.product, suite, start, start + duration)


@dataclass(frozen=True)
class ScheduleSolution:
    """The placed batches with the value of every objective term and level.

    Attributes
    ----------
    batches
        Every batch, sorted by suite and start.
    terms
        Value of each objective kind (``weighted_tardiness`` in weight·h, ``makespan`` in h,
        ``changeover_cost`` and ``schedule_changes`` in money).
    levels
        Value of each lexicographic level (weighted sums of ``terms``).
    """

    batches: tuple[ScheduledBatch, ...]
    terms: dict[str, float]
    levels: tuple[float, ...]

    def breakdown(self) -> dict[str, float]:
        """Every term and every level (``level_1``, ``level_2``, …)."""
        out = dict(self.terms)
        out.update({f"level_{n}": value for n, value in enumerate(self.levels, start=1)})
        return out

    def schedule_document(self) -> dict[str, Any]:
        """The ``schedule`` object of the result document."""
        return {"batches": [asdict(b) for b in self.batches]}

    def gantt(self) -> list[GanttBar]:
        """One bar per batch on its suite."""
        return [
            GanttBar(b.suite, b.start_h, b.end_h, f"{b.batch} ({b.product})") for b in self.batches
        ]


def solution_from_document(
    problem: ScheduleProblem, schedule: dict[str, Any], parts: dict[str, float]
) -> ScheduleSolution:
    """The solution held in a result document's ``schedule`` and ``objective_breakdown``
    (``parts``): the reverse of :meth:`ScheduleSolution.schedule_document`, for the checker."""
    batches = tuple(
        ScheduledBatch(
            b["batch"],
            b["product"],
            b["suite"],
            jf.integer(b["start_h"], f"schedule.batches[{n}].start_h"),
            jf.integer(b["end_h"], f"schedule.batches[{n}].end_h"),
        )
        for n, b in enumerate(jf.array(schedule["batches"], "schedule.batches"))
    )
    levels = tuple(
        parts.get(f"level_{n}", float("nan")) for n in range(1, len(problem.objective) + 1)
    )
    terms = {k: v for k, v in parts.items() if not k.startswith("level_")}
    return ScheduleSolution(batches, terms, levels)
