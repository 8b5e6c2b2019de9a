"""Flexible job-shop scheduling with OR-Tools CP-SAT."""

from __future__ import annotations

import random
import time

from ortools.sat.python import cp_model

from opencdmo.engines.planning.fjsp.dispatch import best_dispatched_schedule
from opencdmo.engines.planning.fjsp.lns import neighbourhood_search
from opencdmo.engines.planning.fjsp.model import build_fjsp_model
from opencdmo.engines.planning.fjsp.problem import FjspProblem
from opencdmo.engines.planning.fjsp.solution import FjspSolution
from opencdmo.engines.planning.result import Result, Sense
from opencdmo.engines.planning.solvers.control import SolveControl, stopped
from opencdmo.engines.planning.solvers.cpsat.status import cpsat_status, minimising_result
from opencdmo.engines.planning.solvers.cpsat.watch import solve_watched
from opencdmo.engines.progress import CancelToken, ProgressCallback

DISPATCH_SHARE = 0.02
"""Share of the time limit for randomised dispatching of the starting schedule."""
OPENING_SHARE = 0.05
"""Share of the time limit for CP-SAT on the full model before the neighbourhood search."""
CLOSING_SHARE = 0.1
"""Share of the time limit kept for CP-SAT on the full model after it, to prove the bound."""


def solve_fjsp(
    problem: FjspProblem,
    *,
    time_limit: float = 600.0,
    threads: int = 1,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Result[FjspSolution]:
    """Minimise the makespan of a flexible job shop.

    Randomised dispatching gives the starting schedule, and CP-SAT on the full model, hinted
    with it, runs for a twentieth of the time: enough to prove the optimum of easy instances
    and to find the lower bound. A large-neighbourhood search follows (see
    :func:`~opencdmo.engines.planning.fjsp.lns.neighbourhood_search`). The last tenth of the
    time goes back to the full model, hinted with the best schedule, to raise the lower bound
    and prove optimality.

    Parameters
    ----------
    problem
        The instance.
    time_limit
        Wall-clock limit in seconds.
    threads
        CP-SAT workers, and threads of the neighbourhood search.
    seed
        Seed of CP-SAT, of the dispatching and of the neighbourhood choice.
    progress
        Called with the best makespan and the lower bound as they improve, and with the
        share of the time limit used.
    cancel
        When cancelled, the dispatching, CP-SAT (``StopSearch``) and the neighbourhood
        steps stop at once, and the shortest schedule so far is returned with ``cancelled``.

    Returns
    -------
    Result[FjspSolution]
        Status, makespan, proven lower bound, gap, time and the schedule.
    """
    started = time.perf_counter()
    control = SolveControl.of(progress, cancel, time_limit_s=time_limit, maximise=False)
    rng = random.Random(seed)
    incumbent = best_dispatched_schedule(problem, rng, time_limit * DISPATCH_SHARE, control)
    horizon = incumbent.makespan
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = threads
    solver.parameters.random_seed = seed
    bound = 0.0

    def full_search(seconds: float) -> None:
        nonlocal incumbent, bound
        if stopped(control):
            return
        left = time_limit - (time.perf_counter() - started)
        solver.parameters.max_time_in_seconds = max(0.0, min(left, seconds))
        full = build_fjsp_model(problem, horizon, incumbent)
        code = solve_watched(solver, full.cp, control, message="CP-SAT, full model")
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            candidate = full.solution(solver)
            if candidate.makespan <= incumbent.makespan:
                incumbent = candidate
        if code != cp_model.MODEL_INVALID:
            bound = max(bound, float(solver.best_objective_bound))

    full_search(time_limit * OPENING_SHARE)
    if incumbent.makespan > bound and not stopped(control):
        incumbent = neighbourhood_search(
            problem,
            incumbent,
            deadline=started + time_limit * (1 - CLOSING_SHARE),
            threads=threads,
            seed=rng.randrange(1 << 30),
            bound=bound,
            control=control,
        )
    if incumbent.makespan > bound and not stopped(control):
        full_search(time_limit)
    objective = float(incumbent.makespan)
    bound = min(bound, objective)
    final_code = cp_model.OPTIMAL if objective <= bound else cp_model.FEASIBLE
    status = cpsat_status(final_code, objective, bound, Sense.MINIMISE, has_solution=True)
    return minimising_result(
        "fjsp",
        problem.id,
        status,
        objective,
        bound,
        incumbent,
        started=started,
        threads=threads,
        time_limit=time_limit,
        seed=seed,
        cancelled=stopped(control),
    )
