"""One entry point for every problem class."""

from __future__ import annotations

from typing import Any, overload

from opencdmo.engines.planning.campaign_problem import CampaignProblem
from opencdmo.engines.planning.campaign_solution import CampaignSolution
from opencdmo.engines.planning.campaign_solver import solve_campaign
from opencdmo.engines.planning.fjsp_problem import FjspProblem
from opencdmo.engines.planning.fjsp_solution import FjspSolution
from opencdmo.engines.planning.fjsp_solver import solve_fjsp
from opencdmo.engines.planning.result import Result
from opencdmo.engines.planning.schedule_problem import ScheduleProblem
from opencdmo.engines.planning.schedule_solution import ScheduleSolution
from opencdmo.engines.planning.schedule_solver import solve_schedule
from opencdmo.engines.planning.stn_problem import StnProblem
from opencdmo.engines.planning.stn_solution import StnSolution
from opencdmo.engines.planning.stn_solver import solve_stn


@overload
def solve(
    problem: StnProblem, *, time_limit: float = ..., threads: int = ..., seed: int = ...
) -> Result[StnSolution]: ...


@overload
def solve(
    problem: CampaignProblem, *, time_limit: float = ..., threads: int = ..., seed: int = ...
) -> Result[CampaignSolution]: ...


@overload
def solve(
    problem: ScheduleProblem, *, time_limit: float = ..., threads: int = ..., seed: int = ...
) -> Result[ScheduleSolution]: ...


@overload
def solve(
    problem: FjspProblem, *, time_limit: float = ..., threads: int = ..., seed: int = ...
) -> Result[FjspSolution]: ...


def solve(
    problem: Any, *, time_limit: float = 600.0, threads: int = 1, seed: int = 0
) -> Result[Any]:
    """Solve a planning problem with the solver suited to its class.

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

    Returns
    -------
    Result
        Status, objective, bound, gap, wall time and the solution.
    """
    if time_limit <= 0:
        raise ValueError(f"time_limit must be > 0 s, got {time_limit}")
    if threads < 1:
        raise ValueError(f"threads must be ≥ 1, got {threads}")
    if isinstance(problem, StnProblem):
        return solve_stn(problem, time_limit=time_limit, threads=threads, seed=seed)
    if isinstance(problem, CampaignProblem):
        return solve_campaign(problem, time_limit=time_limit, threads=threads, seed=seed)
    if isinstance(problem, ScheduleProblem):
        return solve_schedule(problem, time_limit=time_limit, threads=threads, seed=seed)
    if isinstance(problem, FjspProblem):
        return solve_fjsp(problem, time_limit=time_limit, threads=threads, seed=seed)
    raise TypeError(f"cannot solve a {type(problem).__name__}")
