"""A flexible job-shop schedule."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from opencdmo.engines.planning import json_fields as jf
from opencdmo.engines.planning.fjsp.problem import FjspProblem
from opencdmo.engines.planning.result import GanttBar


@dataclass(frozen=True)
class FjspAssignment:
    """Operation ``operation`` of job ``job`` on ``machine`` over ``[start, end)`` (from 1)."""

    job: int
    operation: int
    machine: int
    start: int
    end: int


@dataclass(frozen=True)
class FjspSolution:
    """Every operation's machine and times; the makespan is the latest end."""

    operations: tuple[FjspAssignment, ...]

    @property
    def makespan(self) -> int:
        """Latest end time."""
        return max((a.end for a in self.operations), default=0)

    def breakdown(self) -> dict[str, float]:
        """Objective parts: the makespan alone."""
        return {"makespan": float(self.makespan)}

    def schedule_document(self) -> dict[str, Any]:
        """The ``schedule`` object of the result document (README §7)."""
        return {"operations": [asdict(a) for a in self.operations]}

    def gantt(self) -> list[GanttBar]:
        """One bar per operation on its machine."""
        return [
            GanttBar(f"M{a.machine}", a.start, a.end, f"J{a.job}.{a.operation}")
            for a in sorted(self.operations, key=lambda a: (a.machine, a.start))
        ]


def solution_from_document(
    problem: FjspProblem, schedule: dict[str, Any], parts: dict[str, float]
) -> FjspSolution:
    """The solution held in a result document's ``schedule`` and ``objective_breakdown``
    (``parts``): the reverse of :meth:`FjspSolution.schedule_document`, for the checker."""
    return FjspSolution(
        tuple(
            FjspAssignment(
                int(a["job"]),
                int(a["operation"]),
                int(a["machine"]),
                int(a["start"]),
                int(a["end"]),
            )
            for a in jf.array(schedule["operations"], "schedule.operations")
        )
    )
