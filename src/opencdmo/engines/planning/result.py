"""What every solve returns: status, objective, bound, gap, time and the solution."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

RESULT_FORMAT = "opencdmo-result/1"


class SolveStatus(StrEnum):
    """Outcome of a solve, as defined by the ``opencdmo-result/1`` format."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    TIME_LIMIT = "time_limit"


class Sense(StrEnum):
    """Direction of optimisation."""

    MAXIMISE = "maximise"
    MINIMISE = "minimise"


@dataclass(frozen=True)
class GanttBar:
    """One bar of a Gantt chart.

    Attributes
    ----------
    resource
        Unit, suite or machine the bar belongs to.
    start, end
        Start and end in the problem's time unit (``time_unit`` of the solution).
    label
        Text on the bar (task, product, job/operation).
    """

    resource: str
    start: float
    end: float
    label: str


class Solution(Protocol):
    """What a problem-specific solution offers to the result envelope."""

    def breakdown(self) -> dict[str, float]:
        """Parts of the objective."""

    def schedule_document(self) -> dict[str, Any]:
        """The ``schedule`` object of the result document."""

    def gantt(self) -> list[GanttBar]:
        """Bars for a Gantt chart."""


SolutionT = TypeVar("SolutionT", bound=Solution)


@dataclass(frozen=True)
class SolverInfo:
    """Which solver ran and with which settings."""

    name: str
    version: str
    threads: int
    time_limit_s: float
    seed: int
    mip_rel_gap: float | None = None
    nodes: int | None = None

    def document(self) -> dict[str, Any]:
        """The ``solver`` object of the result document."""
        out: dict[str, Any] = {
            "name": self.name,
            "version": self.version,
            "threads": self.threads,
            "time_limit_s": self.time_limit_s,
            "seed": self.seed,
        }
        if self.mip_rel_gap is not None:
            out["mip_rel_gap"] = self.mip_rel_gap
        if self.nodes is not None:
            out["nodes"] = self.nodes
        return out


def relative_gap(objective: float | None, bound: float | None, sense: Sense) -> float | None:
    """Gap as defined by ``opencdmo-result/1``: ``|bound − objective| / max(1, |objective|)``.

    Parameters
    ----------
    objective
        Objective of the reported solution.
    bound
        Proven bound (upper when maximising, lower when minimising).
    sense
        Direction of optimisation.

    Returns
    -------
    float or None
        The gap, never negative, or ``None`` unless both values are known.
    """
    if objective is None or bound is None or not math.isfinite(bound):
        return None
    diff = bound - objective if sense is Sense.MAXIMISE else objective - bound
    return max(0.0, diff) / max(1.0, abs(objective))


@dataclass(frozen=True)
class Result(Generic[SolutionT]):
    """Outcome of :func:`opencdmo.engines.planning.solve`.

    Attributes
    ----------
    problem
        ``"stn"``, ``"campaign"``, ``"schedule"`` or ``"fjsp"``.
    instance_id
        The instance's identifier.
    status
        Outcome of the solve.
    objective
        Objective of the reported solution, ``None`` when there is none.
    bound
        Proven bound on the optimum (upper when maximising, lower when minimising).
    gap
        Relative gap between ``objective`` and ``bound``.
    wall_s
        Wall-clock seconds for model building, solving and extracting the solution.
    solver
        Solver name, version and settings.
    solution
        The solution, ``None`` when none was found.
    sense
        Direction of optimisation.
    """

    problem: str
    instance_id: str
    status: SolveStatus
    objective: float | None
    bound: float | None
    gap: float | None
    wall_s: float
    solver: SolverInfo
    solution: SolutionT | None
    sense: Sense = Sense.MAXIMISE

    def document(self) -> dict[str, Any]:
        """Return the ``opencdmo-result/1`` document of this result."""
        doc: dict[str, Any] = {
            "format": RESULT_FORMAT,
            "problem": self.problem,
            "instance_id": self.instance_id,
            "status": self.status.value,
            "objective": self.objective,
            "bound": None if self.status is SolveStatus.INFEASIBLE else self.bound,
            "gap": self.gap,
            "wall_s": round(self.wall_s, 6),
            "solver": self.solver.document(),
        }
        if self.solution is not None:
            doc["objective_breakdown"] = self.solution.breakdown()
            doc["schedule"] = self.solution.schedule_document()
        else:
            doc["schedule"] = None
        return doc

    def gantt(self) -> list[GanttBar]:
        """Bars of the solution for a Gantt chart (empty without a solution)."""
        return [] if self.solution is None else self.solution.gantt()
