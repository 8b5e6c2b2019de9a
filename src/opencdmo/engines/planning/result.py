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
class ObjectiveMeaning:
    """What the objective measures: its name, its unit and its direction.

    Written to the result document as ``objective_meaning``, so that a reader need not know
    the problem class to say "profit, money units, maximised".
    """

    name: str
    unit: str
    sense: Sense

    def describe(self) -> str:
        """One phrase for people: ``"makespan, time units, minimised"``."""
        verb = "maximised" if self.sense is Sense.MAXIMISE else "minimised"
        return f"{self.name}, {self.unit}, {verb}"

    def document(self) -> dict[str, str]:
        """The ``objective_meaning`` object of the result document."""
        return {"name": self.name, "unit": self.unit, "sense": self.sense.value}


@dataclass(frozen=True)
class Conflict:
    """Why an instance has no solution: the rule broken, the batches it binds, in words.

    Written to the result document's ``infeasibility`` list when the status is
    ``infeasible`` and the solver could say why.
    """

    rule: str
    batches: tuple[str, ...]
    reason: str

    def document(self) -> dict[str, Any]:
        """One entry of the result document's ``infeasibility`` list."""
        return {"rule": self.rule, "batches": list(self.batches), "reason": self.reason}


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
    cancelled
        The solve was stopped on request (a cancel token) before its time limit; the result
        is the best found until then, its status says what was proven about it.
    objective_meaning
        Name, unit and direction of the objective, where known.
    conflicts
        With status ``infeasible``: the rules and batches that conflict, where found.
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
    cancelled: bool = False
    objective_meaning: ObjectiveMeaning | None = None
    conflicts: tuple[Conflict, ...] = ()

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
        if self.objective_meaning is not None:
            doc["objective_meaning"] = self.objective_meaning.document()
        if self.cancelled:
            doc["cancelled"] = True
        if self.conflicts:
            doc["infeasibility"] = [conflict.document() for conflict in self.conflicts]
        if self.solution is not None:
            doc["objective_breakdown"] = self.solution.breakdown()
            doc["schedule"] = self.solution.schedule_document()
        else:
            doc["schedule"] = None
        return doc

    def gantt(self) -> list[GanttBar]:
        """Bars of the solution for a Gantt chart (empty without a solution)."""
        return [] if self.solution is None else self.solution.gantt()
