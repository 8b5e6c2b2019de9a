"""The problem kinds, said once: how to read, solve, check and describe each.

:func:`solve`, the command line (:mod:`.cli`) and :func:`~.result_reader.read_result` all look
a problem up here, by its name (``"schedule"``) or by its class; a new problem kind is one more
entry in :data:`PROBLEM_KINDS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol, overload

from opencdmo.engines.planning.campaign.checker import check_campaign_solution
from opencdmo.engines.planning.campaign.problem import CampaignProblem
from opencdmo.engines.planning.campaign.reader import CAMPAIGN_FORMAT, read_campaign
from opencdmo.engines.planning.campaign.solution import CampaignSolution
from opencdmo.engines.planning.campaign.solution import (
    solution_from_document as campaign_from_document,
)
from opencdmo.engines.planning.campaign.solver import solve_campaign
from opencdmo.engines.planning.check_report import CheckReport
from opencdmo.engines.planning.fjsp.checker import check_fjsp_solution
from opencdmo.engines.planning.fjsp.problem import FjspProblem
from opencdmo.engines.planning.fjsp.reader import read_fjsp
from opencdmo.engines.planning.fjsp.solution import FjspSolution
from opencdmo.engines.planning.fjsp.solution import solution_from_document as fjsp_from_document
from opencdmo.engines.planning.fjsp.solver import solve_fjsp
from opencdmo.engines.planning.result import ObjectiveMeaning, Result, Sense
from opencdmo.engines.planning.schedule.checker import check_schedule_solution
from opencdmo.engines.planning.schedule.problem import ObjectiveKind, ScheduleProblem
from opencdmo.engines.planning.schedule.reader import SCHEDULE_FORMAT, read_schedule
from opencdmo.engines.planning.schedule.solution import ScheduleSolution
from opencdmo.engines.planning.schedule.solution import (
    solution_from_document as schedule_from_document,
)
from opencdmo.engines.planning.schedule.solver import solve_schedule
from opencdmo.engines.planning.stn.checker import check_stn_solution
from opencdmo.engines.planning.stn.problem import StnProblem
from opencdmo.engines.planning.stn.reader import STN_FORMAT, read_stn
from opencdmo.engines.planning.stn.solution import StnSolution
from opencdmo.engines.planning.stn.solution import solution_from_document as stn_from_document
from opencdmo.engines.planning.stn.solver import solve_stn
from opencdmo.engines.progress import CancelToken, ProgressCallback

FJSP_FORMAT = "brandimarte-fjs"
"""The job-shop instances are Brandimarte's plain-text ``.fjs`` files, not JSON."""

Problem = StnProblem | CampaignProblem | ScheduleProblem | FjspProblem
Solution = StnSolution | CampaignSolution | ScheduleSolution | FjspSolution


class SolveFunction(Protocol):
    """The signature every problem kind's solver shares."""

    def __call__(
        self,
        problem: Any,
        /,
        *,
        time_limit: float = ...,
        threads: int = ...,
        seed: int = ...,
        progress: ProgressCallback | None = ...,
        cancel: CancelToken | None = ...,
    ) -> Result[Any]: ...


@dataclass(frozen=True)
class ProblemKind:
    """Everything the engine does with one problem class.

    Attributes
    ----------
    name
        The kind's name: ``Result.problem`` and the command line's ``KIND``.
    format_id
        The instance format (``"opencdmo-schedule/1"``).
    help, file_help
        What the kind solves, and what its instance file is, for the command line.
    problem_type
        The problem dataclass.
    read
        Instance file → problem; raises ``InstanceError`` naming the file and field.
    solve
        The solver.
    check
        The independent checker: ``(problem, solution, reported objective) → CheckReport``.
    read_solution
        A result document's ``schedule`` and ``objective_breakdown`` → solution.
    objective
        What the problem's objective measures (name, unit, direction).
    resource, time_unit
        What the plan's bars run on (``"suite"``) and the unit of their times (``"h"``).
    """

    name: str
    format_id: str
    help: str
    file_help: str
    problem_type: type[Any]
    read: Callable[[str], Any]
    solve: SolveFunction
    check: Callable[[Any, Any, float | None], CheckReport]
    read_solution: Callable[[Any, dict[str, Any], dict[str, float]], Any]
    objective: Callable[[Any], ObjectiveMeaning]
    resource: str
    time_unit: str


_TERM_NAMES = {
    ObjectiveKind.WEIGHTED_TARDINESS: ("weighted lateness", "weight-hours"),
    ObjectiveKind.LATENESS_INCREASE: ("lateness beyond the published plan", "weight-hours"),
    ObjectiveKind.MAKESPAN: ("makespan", "hours"),
    ObjectiveKind.CHANGEOVER_COST: ("changeover cost", "money units"),
    ObjectiveKind.SCHEDULE_CHANGES: ("schedule changes", "money units"),
}


def schedule_objective(problem: ScheduleProblem) -> ObjectiveMeaning:
    """The first objective level, which ``objective`` and ``bound`` report: its terms with
    their weights, and their units (several where the level mixes them)."""
    terms = problem.objective[0]
    names = [
        _TERM_NAMES[term.kind][0]
        if term.weight == 1
        else f"{_TERM_NAMES[term.kind][0]} (weight {term.weight:g})"
        for term in terms
    ]
    units = list(dict.fromkeys(_TERM_NAMES[term.kind][1] for term in terms))
    name = " + ".join(names)
    if len(problem.objective) > 1:
        name = f"level 1 of {len(problem.objective)}: {name}"
    return ObjectiveMeaning(name, " + ".join(units), Sense.MINIMISE)


PROBLEM_KINDS: dict[str, ProblemKind] = {
    kind.name: kind
    for kind in (
        ProblemKind(
            name="stn",
            format_id=STN_FORMAT,
            help="State-Task Network batch scheduling (HiGHS MILP)",
            file_help="an opencdmo-stn/1 JSON file",
            problem_type=StnProblem,
            read=read_stn,
            solve=solve_stn,
            check=check_stn_solution,
            read_solution=stn_from_document,
            objective=lambda _: ObjectiveMeaning("profit", "money units", Sense.MAXIMISE),
            resource="unit",
            time_unit="h",
        ),
        ProblemKind(
            name="campaign",
            format_id=CAMPAIGN_FORMAT,
            help="Biopharmaceutical campaign planning, Lakhdar et al. 2005 (HiGHS MILP)",
            file_help="an opencdmo-campaign/1 JSON file",
            problem_type=CampaignProblem,
            read=read_campaign,
            solve=solve_campaign,
            check=check_campaign_solution,
            read_solution=campaign_from_document,
            objective=lambda _: ObjectiveMeaning("profit", "money units", Sense.MAXIMISE),
            resource="suite",
            time_unit="d",
        ),
        ProblemKind(
            name="schedule",
            format_id=SCHEDULE_FORMAT,
            help="Suite scheduling with changeovers, downtimes, coupling and campaigns (CP-SAT)",
            file_help="an opencdmo-schedule/1 JSON file",
            problem_type=ScheduleProblem,
            read=read_schedule,
            solve=solve_schedule,
            check=check_schedule_solution,
            read_solution=schedule_from_document,
            objective=schedule_objective,
            resource="suite",
            time_unit="h",
        ),
        ProblemKind(
            name="fjsp",
            format_id=FJSP_FORMAT,
            help="Flexible job shop, minimum makespan (CP-SAT)",
            file_help="a Brandimarte .fjs text file",
            problem_type=FjspProblem,
            read=read_fjsp,
            solve=solve_fjsp,
            check=check_fjsp_solution,
            read_solution=fjsp_from_document,
            objective=lambda _: ObjectiveMeaning("makespan", "time units", Sense.MINIMISE),
            resource="machine",
            time_unit="time units",
        ),
    )
}


def kind_of(problem: object) -> ProblemKind:
    """The problem kind of ``problem``; ``TypeError`` for anything else."""
    for kind in PROBLEM_KINDS.values():
        if isinstance(problem, kind.problem_type):
            return kind
    raise TypeError(f"cannot solve a {type(problem).__name__}")


@overload
def solve(
    problem: StnProblem,
    *,
    time_limit: float = ...,
    threads: int = ...,
    seed: int = ...,
    progress: ProgressCallback | None = ...,
    cancel: CancelToken | None = ...,
) -> Result[StnSolution]: ...


@overload
def solve(
    problem: CampaignProblem,
    *,
    time_limit: float = ...,
    threads: int = ...,
    seed: int = ...,
    progress: ProgressCallback | None = ...,
    cancel: CancelToken | None = ...,
) -> Result[CampaignSolution]: ...


@overload
def solve(
    problem: ScheduleProblem,
    *,
    time_limit: float = ...,
    threads: int = ...,
    seed: int = ...,
    progress: ProgressCallback | None = ...,
    cancel: CancelToken | None = ...,
) -> Result[ScheduleSolution]: ...


@overload
def solve(
    problem: FjspProblem,
    *,
    time_limit: float = ...,
    threads: int = ...,
    seed: int = ...,
    progress: ProgressCallback | None = ...,
    cancel: CancelToken | None = ...,
) -> Result[FjspSolution]: ...


def solve(
    problem: Any,
    *,
    time_limit: float = 600.0,
    threads: int = 1,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Result[Any]:
    """Solve a planning problem with the solver of its kind.

    Parameters
    ----------
    problem
        An :class:`StnProblem` or :class:`CampaignProblem` (HiGHS MILP), or a
        :class:`ScheduleProblem` or :class:`FjspProblem` (CP-SAT).
    time_limit
        Wall-clock limit in seconds.
    threads
        Threads the solver may use.
    seed
        Random seed of the solver.
    progress
        Called from this thread with the incumbent objective and the bound as the solver
        improves them, and with the share of ``time_limit`` used.
    cancel
        When cancelled (from any thread), the solver stops within about a second and the
        best result so far is returned, with ``cancelled`` set.

    Returns
    -------
    Result
        Status, objective (with its meaning), bound, gap, wall time and the solution.
    """
    if time_limit <= 0:
        raise ValueError(f"time_limit must be > 0 s, got {time_limit}")
    if threads < 1:
        raise ValueError(f"threads must be ≥ 1, got {threads}")
    kind = kind_of(problem)
    result = kind.solve(
        problem,
        time_limit=time_limit,
        threads=threads,
        seed=seed,
        progress=progress,
        cancel=cancel,
    )
    return replace(result, objective_meaning=kind.objective(problem))
