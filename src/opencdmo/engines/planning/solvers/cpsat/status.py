"""Translation of CP-SAT outcomes into :class:`SolveStatus` and :class:`Result`."""

from __future__ import annotations

import time
from importlib.metadata import version

from ortools.sat.python import cp_model

from opencdmo.engines.planning.result import (
    Result,
    Sense,
    SolutionT,
    SolverInfo,
    SolveStatus,
    relative_gap,
)

OPTIMALITY_GAP = 1e-6


def ortools_version() -> str:
    """Version string of OR-Tools."""
    return version("ortools")


def cpsat_status(
    code: cp_model.CpSolverStatus,
    objective: float | None,
    bound: float | None,
    sense: Sense,
    *,
    has_solution: bool,
) -> SolveStatus:
    """Map a CP-SAT status code to the result format's status.

    Parameters
    ----------
    code
        ``CpSolver.solve``'s return value.
    objective, bound
        Objective of the reported solution and the proven bound.
    sense
        Direction of optimisation.
    has_solution
        Whether a solution is reported.

    Returns
    -------
    SolveStatus
        ``optimal`` only with a proven gap of at most 1e-6; ``infeasible`` when proven;
        ``time_limit`` otherwise.
    """
    if code == cp_model.INFEASIBLE:
        return SolveStatus.INFEASIBLE
    gap = relative_gap(objective, bound, sense)
    if has_solution and gap is not None and gap <= OPTIMALITY_GAP:
        return SolveStatus.OPTIMAL
    if code == cp_model.MODEL_INVALID:
        raise RuntimeError("CP-SAT rejected the model as invalid")
    return SolveStatus.TIME_LIMIT


def minimising_result(
    problem: str,
    instance_id: str,
    status: SolveStatus,
    objective: float | None,
    bound: float | None,
    solution: SolutionT | None,
    *,
    started: float,
    threads: int,
    time_limit: float,
    seed: int,
    cancelled: bool = False,
) -> Result[SolutionT]:
    """The result of a CP-SAT minimisation, with gap, wall time since ``started``
    (``time.perf_counter()``) and the solver's settings filled in."""
    return Result(
        problem=problem,
        instance_id=instance_id,
        status=status,
        objective=objective,
        bound=bound,
        gap=relative_gap(objective, bound, Sense.MINIMISE),
        wall_s=time.perf_counter() - started,
        solver=SolverInfo("CP-SAT", ortools_version(), threads, time_limit, seed),
        solution=solution,
        sense=Sense.MINIMISE,
        cancelled=cancelled,
    )
