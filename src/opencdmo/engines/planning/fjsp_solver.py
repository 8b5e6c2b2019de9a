"""Flexible job-shop scheduling with OR-Tools CP-SAT."""

from __future__ import annotations

import random
import time

from ortools.sat.python import cp_model

from opencdmo.engines.planning.cpsat_status import cpsat_status, minimising_result
from opencdmo.engines.planning.fjsp_dispatch import best_dispatched_schedule
from opencdmo.engines.planning.fjsp_lns import neighbourhood_search
from opencdmo.engines.planning.fjsp_model import build_fjsp_model
from opencdmo.engines.planning.fjsp_problem import FjspProblem
from opencdmo.engines.planning.fjsp_solution import FjspSolution
from opencdmo.engines.planning.result import Result, Sense

DISPATCH_SHARE = 0.02
"""Share of the time limit for randomised dispatching of the starting schedule."""
OPENING_SHARE = 0.05
"""Share of the time limit for CP-SAT on the full model before the neighbourhood search."""
CLOSING_SHARE = 0.1
"""Share of the time limit kept for CP-SAT on the full model after it, to prove the bound."""


def solve_fjsp(
    problem: FjspProblem, *, time_limit: float = 600.0, threads: int = 1, seed: int = 0
) -> Result[FjspSolution]:
    """Minimise the makespan of a flexible job shop.

    Randomised dispatching gives the starting schedule, and CP-SAT on the full model, hinted
    with it, runs for a twentieth of the time: enough to prove the optimum of easy instances
    and to find the lower bound. A large-neighbourhood search follows (see
    :func:`~opencdmo.engines.planning.fjsp_lns.neighbourhood_search`). The last tenth of the
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

    Returns
    -------
    Result[FjspSolution]
        Status, makespan, proven lower bound, gap, time and the schedule.
    """
    started = time.perf_counter()
    rng = random.Random(seed)
    incumbent = best_dispatched_schedule(problem, rng, time_limit * DISPATCH_SHARE)
    horizon = incumbent.makespan
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = threads
    solver.parameters.random_seed = seed
    bound = 0.0

    def full_search(seconds: float) -> None:
        nonlocal incumbent, bound
        left = time_limit - (time.perf_counter() - started)
        solver.parameters.max_time_in_seconds = max(0.0, min(left, seconds))
        full = build_fjsp_model(problem, horizon, incumbent)
        code = solver.solve(full.cp)
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            candidate = full.solution(solver)
            if candidate.makespan <= incumbent.makespan:
                incumbent = candidate
        if code != cp_model.MODEL_INVALID:
            bound = max(bound, float(solver.best_objective_bound))

    full_search(time_limit * OPENING_SHARE)
    if incumbent.makespan > bound:
        incumbent = neighbourhood_search(
            problem,
            incumbent,
            deadline=started + time_limit * (1 - CLOSING_SHARE),
            threads=threads,
            seed=rng.randrange(1 << 30),
            bound=bound,
        )
    if incumbent.makespan > bound:
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
    )
