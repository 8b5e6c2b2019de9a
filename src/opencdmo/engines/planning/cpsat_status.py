"""Translation of CP-SAT outcomes into :class:`SolveStatus`."""

from __future__ import annotations

from importlib.metadata import version

from ortools.sat.python import cp_model

from opencdmo.engines.planning.result import Sense, SolveStatus, relative_gap

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
