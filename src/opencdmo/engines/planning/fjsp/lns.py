"""Large-neighbourhood search for the flexible job shop, one single-worker CP-SAT per thread."""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait

from ortools.sat.python import cp_model

from opencdmo.engines.planning.fjsp.model import build_fjsp_model
from opencdmo.engines.planning.fjsp.neighbourhood import Neighbourhoods
from opencdmo.engines.planning.fjsp.problem import FjspProblem
from opencdmo.engines.planning.fjsp.solution import FjspSolution
from opencdmo.engines.planning.solvers.control import SolveControl, stopped

STEP_S = 0.25
"""Time limit of one neighbourhood re-optimisation (s)."""
REPORT_POLL_S = 0.1
"""How often the calling thread looks for a shorter schedule to report."""
WEIGHTS = 4
"""Job weights of the tie-break are drawn from ``0 … WEIGHTS - 1`` at every step."""


class _Search:
    """The incumbent shared by the threads, which replace it by any schedule no longer."""

    def __init__(self, incumbent: FjspSolution) -> None:
        self.incumbent = incumbent
        self.lock = threading.Lock()

    def offer(self, candidate: FjspSolution) -> None:
        """Keep ``candidate`` unless it is longer: equal makespans move along a plateau."""
        with self.lock:
            if candidate.makespan <= self.incumbent.makespan:
                self.incumbent = candidate


def neighbourhood_search(
    problem: FjspProblem,
    incumbent: FjspSolution,
    *,
    deadline: float,
    threads: int,
    seed: int,
    bound: float,
    control: SolveControl | None = None,
) -> FjspSolution:
    """Improve ``incumbent`` until ``deadline`` or until it meets ``bound``.

    Each thread repeatedly frees a neighbourhood of the incumbent and lets a single-worker
    CP-SAT re-optimise it for at most ``STEP_S``. Small subproblems gain little from a
    second worker, so ``threads`` independent steps double the steps per second. Each step
    breaks ties between schedules of equal makespan by a random weighting of the jobs'
    completion times, which walks the plateaus that a pure makespan objective cannot leave.

    Parameters
    ----------
    problem
        The instance.
    incumbent
        A feasible schedule to start from.
    deadline
        End of the search, on the ``time.perf_counter()`` clock (s).
    threads
        Concurrent neighbourhood steps, one CP-SAT worker each.
    seed
        Seed of the neighbourhood choice and of CP-SAT.
    bound
        A proven lower bound on the makespan; the search stops when it is reached.
    control
        Progress and cancel: every shorter schedule is reported from the calling thread,
        and a cancel ends every thread's step loop (a step lasts at most ``STEP_S``).

    Returns
    -------
    FjspSolution
        The best schedule found, never longer than ``incumbent``.
    """
    search = _Search(incumbent)
    seeds = random.Random(seed)
    count = max(1, threads)
    with ThreadPoolExecutor(count) as pool:
        workers = [
            pool.submit(
                _worker,
                problem,
                search,
                deadline,
                bound,
                random.Random(seeds.randrange(1 << 30)),
                control,
            )
            for _ in range(count)
        ]
        if control is not None:
            _report_while(workers, search, control, bound)
        for worker in workers:
            worker.result()
    return search.incumbent


def _report_while(
    workers: list[Future[None]], search: _Search, control: SolveControl, bound: float
) -> None:
    """Report each shorter incumbent until the workers are done."""
    reported: int | None = None
    while not all(worker.done() for worker in workers):
        wait(workers, timeout=REPORT_POLL_S)
        makespan = search.incumbent.makespan
        if makespan != reported:
            control.report("neighbourhood search", makespan, bound)
            reported = makespan


def _worker(
    problem: FjspProblem,
    search: _Search,
    deadline: float,
    bound: float,
    rng: random.Random,
    control: SolveControl | None,
) -> None:
    """One thread's steps; linearisation off, as the LP only slows these subproblems down."""
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.linearization_level = 0
    neighbourhoods = Neighbourhoods(problem, rng)
    jobs = range(1, len(problem.jobs) + 1)
    while True:
        left = deadline - time.perf_counter()
        incumbent = search.incumbent
        if left <= 0 or incumbent.makespan <= bound or stopped(control):
            return
        kind, free = neighbourhoods.draw(incumbent)
        weights = {j: rng.randrange(WEIGHTS) for j in jobs}
        part = build_fjsp_model(problem, incumbent.makespan, incumbent, free, weights)
        solver.parameters.max_time_in_seconds = min(left, STEP_S)
        solver.parameters.random_seed = rng.randrange(1 << 30)
        code = solver.solve(part.cp)
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            search.offer(part.solution(solver))
        neighbourhoods.report(kind, closed=code == cp_model.OPTIMAL)
