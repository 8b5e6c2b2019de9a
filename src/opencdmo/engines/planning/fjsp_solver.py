"""Flexible job-shop scheduling with OR-Tools CP-SAT."""

from __future__ import annotations

import itertools
import random
import time
from dataclasses import dataclass

from ortools.sat.python import cp_model

from opencdmo.engines.planning.cpsat_status import cpsat_status, ortools_version
from opencdmo.engines.planning.fjsp_problem import FjspProblem
from opencdmo.engines.planning.fjsp_solution import FjspAssignment, FjspSolution
from opencdmo.engines.planning.result import Result, Sense, SolverInfo, relative_gap

OPENING_SHARE = 0.1
"""Share of the time limit for CP-SAT on the full model before the neighbourhood search."""
CLOSING_SHARE = 0.25
"""Share of the time limit kept for CP-SAT on the full model after it, to prove the bound."""
LNS_STEP_S = 0.5
"""Time limit of one neighbourhood re-optimisation (s)."""


def greedy_fjsp_schedule(problem: FjspProblem) -> FjspSolution:
    """A quick feasible schedule: repeatedly place the ready operation that can finish first.

    Parameters
    ----------
    problem
        The instance.

    Returns
    -------
    FjspSolution
        A feasible schedule, used as the search's starting point.
    """
    machine_free = [0] * (problem.machine_count + 1)
    job_free = [0] * len(problem.jobs)
    next_op = [0] * len(problem.jobs)
    remaining = [
        sum(min(d for _, d in op.alternatives) for op in job.operations) for job in problem.jobs
    ]
    placed: list[FjspAssignment] = []
    total = sum(len(job.operations) for job in problem.jobs)
    while len(placed) < total:
        best: tuple[int, int, int, int, int] | None = None
        for j, job in enumerate(problem.jobs):
            if next_op[j] == len(job.operations):
                continue
            operation = job.operations[next_op[j]]
            for machine, duration in operation.alternatives:
                start = max(job_free[j], machine_free[machine])
                key = (start + duration, -remaining[j], j, machine, start)
                if best is None or key < best:
                    best = key
        assert best is not None
        end, _, j, machine, start = best
        operation = problem.jobs[j].operations[next_op[j]]
        placed.append(FjspAssignment(j + 1, next_op[j] + 1, machine, start, end))
        remaining[j] -= min(d for _, d in operation.alternatives)
        machine_free[machine] = end
        job_free[j] = end
        next_op[j] += 1
    return FjspSolution(tuple(placed))


@dataclass
class _Model:
    """A CP-SAT model of the instance, possibly with part of an incumbent kept fixed."""

    cp: cp_model.CpModel
    makespan: cp_model.IntVar
    starts: dict[tuple[int, int], cp_model.IntVar]
    ends: dict[tuple[int, int], cp_model.IntVar]
    chosen: dict[tuple[int, int, int], cp_model.IntVar]


def _build(
    problem: FjspProblem,
    horizon: int,
    incumbent: FjspSolution,
    free: set[tuple[int, int]] | None,
) -> _Model:
    """Model the instance; operations outside ``free`` keep their machine and machine order.

    ``free = None`` frees everything (the full model). Redundant constraints: each operation's
    head and tail (shortest processing before and after it in its job) bound its window, and
    the makespan is at least every machine's total load, which lifts the lower bound from the
    longest job to the busiest machine and proves optima such as mk05's 172.
    """
    cp = cp_model.CpModel()
    starts: dict[tuple[int, int], cp_model.IntVar] = {}
    ends: dict[tuple[int, int], cp_model.IntVar] = {}
    chosen: dict[tuple[int, int, int], cp_model.IntVar] = {}
    per_machine: dict[int, list[cp_model.IntervalVar]] = {
        m: [] for m in range(1, problem.machine_count + 1)
    }
    loads: dict[int, list[cp_model.LinearExprT]] = {m: [] for m in per_machine}
    makespan = cp.new_int_var(0, horizon, "makespan")
    placed = {(a.job, a.operation): a for a in incumbent.operations}
    heads = _heads(problem)
    tails = _tails(problem)
    for j, job in enumerate(problem.jobs, start=1):
        for o, operation in enumerate(job.operations, start=1):
            keep = free is not None and (j, o) not in free
            alternatives = (
                [(placed[j, o].machine, placed[j, o].end - placed[j, o].start)]
                if keep
                else list(operation.alternatives)
            )
            durations = [d for _, d in alternatives]
            low, high = heads[j - 1][o - 1], horizon - tails[j - 1][o - 1]
            start = cp.new_int_var(low, max(low, high - min(durations)), f"s{j}_{o}")
            end = cp.new_int_var(low + min(durations), max(low + min(durations), high), f"e{j}_{o}")
            literals = []
            for machine, duration in alternatives:
                literal = cp.new_bool_var(f"x{j}_{o}_{machine}")
                per_machine[machine].append(
                    cp.new_optional_interval_var(
                        start, duration, end, literal, f"i{j}_{o}_{machine}"
                    )
                )
                chosen[j, o, machine] = literal
                loads[machine].append(duration * literal)
                literals.append(literal)
            cp.add_exactly_one(literals)
            starts[j, o] = start
            ends[j, o] = end
            if o > 1:
                cp.add(start >= ends[j, o - 1])
        cp.add(makespan >= ends[j, len(job.operations)])
    for intervals in per_machine.values():
        if len(intervals) > 1:
            cp.add_no_overlap(intervals)
    for machine_loads in loads.values():
        if machine_loads:
            cp.add(makespan >= sum(machine_loads))
    if free is not None:
        by_machine: dict[int, list[FjspAssignment]] = {}
        for a in incumbent.operations:
            if (a.job, a.operation) not in free:
                by_machine.setdefault(a.machine, []).append(a)
        for sequence in by_machine.values():
            sequence.sort(key=lambda a: (a.start, a.end))
            for first, second in itertools.pairwise(sequence):
                cp.add(starts[second.job, second.operation] >= ends[first.job, first.operation])
    cp.minimize(makespan)
    for a in incumbent.operations:
        cp.add_hint(starts[a.job, a.operation], a.start)
        cp.add_hint(ends[a.job, a.operation], a.end)
        for (j, o, machine), literal in chosen.items():
            if (j, o) == (a.job, a.operation):
                cp.add_hint(literal, machine == a.machine)
    cp.add_hint(makespan, incumbent.makespan)
    return _Model(cp, makespan, starts, ends, chosen)


def _solution_of(model: _Model, solver: cp_model.CpSolver) -> FjspSolution:
    machine_of = {(j, o): m for (j, o, m), literal in model.chosen.items() if solver.value(literal)}
    return FjspSolution(
        tuple(
            FjspAssignment(
                j, o, machine_of[j, o], solver.value(start), solver.value(model.ends[j, o])
            )
            for (j, o), start in model.starts.items()
        )
    )


def _neighbourhood(
    problem: FjspProblem, incumbent: FjspSolution, rng: random.Random, share: float
) -> set[tuple[int, int]]:
    """Operations to free: those on random machines, of random jobs, or in a random time window."""
    kind = rng.randrange(3)
    if kind == 0:
        count = max(1, round(share * problem.machine_count))
        machines = set(rng.sample(range(1, problem.machine_count + 1), count))
        return {(a.job, a.operation) for a in incumbent.operations if a.machine in machines}
    if kind == 1:
        count = max(1, round(share * len(problem.jobs)))
        jobs = set(rng.sample(range(1, len(problem.jobs) + 1), count))
        return {(a.job, a.operation) for a in incumbent.operations if a.job in jobs}
    width = max(1, round(share * incumbent.makespan))
    begin = rng.randrange(max(1, incumbent.makespan - width + 1))
    return {(a.job, a.operation) for a in incumbent.operations if begin <= a.start < begin + width}


def solve_fjsp(
    problem: FjspProblem, *, time_limit: float = 600.0, threads: int = 1, seed: int = 0
) -> Result[FjspSolution]:
    """Minimise the makespan of a flexible job shop.

    The search starts from a greedy schedule and runs CP-SAT on the full model for a tenth of
    the time (enough to prove the optimum of easy instances). A large-neighbourhood search
    follows: CP-SAT re-optimises the operations of a few machines, a few jobs or a time
    window while the others keep their machine and order; the neighbourhood grows after quick
    successes and shrinks after timeouts. The last quarter of the time goes back to the full
    model, hinted with the best schedule, to raise the lower bound and prove optimality.

    Parameters
    ----------
    problem
        The instance.
    time_limit
        Wall-clock limit in seconds.
    threads
        CP-SAT workers.
    seed
        Seed of CP-SAT and of the neighbourhood choice.

    Returns
    -------
    Result[FjspSolution]
        Status, makespan, proven lower bound, gap, time and the schedule.
    """
    started = time.perf_counter()
    rng = random.Random(seed)
    incumbent = greedy_fjsp_schedule(problem)
    horizon = incumbent.makespan

    def remaining() -> float:
        return time_limit - (time.perf_counter() - started)

    solver = cp_model.CpSolver()
    solver.parameters.num_workers = threads
    solver.parameters.random_seed = seed
    bound: float | None = None
    proven = False

    def full_search(seconds: float) -> None:
        nonlocal incumbent, bound, proven
        solver.parameters.max_time_in_seconds = max(0.0, min(remaining(), seconds))
        full = _build(problem, horizon, incumbent, None)
        code = solver.solve(full.cp)
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            candidate = _solution_of(full, solver)
            if candidate.makespan <= incumbent.makespan:
                incumbent = candidate
        if code != cp_model.MODEL_INVALID:
            found = float(solver.best_objective_bound)
            bound = found if bound is None else max(bound, found)
        proven = bound is not None and incumbent.makespan <= bound

    full_search(time_limit * OPENING_SHARE)
    share = 0.2
    while not proven and remaining() > time_limit * CLOSING_SHARE:
        free = _neighbourhood(problem, incumbent, rng, share)
        part = _build(problem, incumbent.makespan, incumbent, free)
        solver.parameters.max_time_in_seconds = min(remaining(), LNS_STEP_S)
        solver.parameters.random_seed = rng.randrange(1 << 30)
        code = solver.solve(part.cp)
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            candidate = _solution_of(part, solver)
            if candidate.makespan <= incumbent.makespan:
                incumbent = candidate
        share = min(0.6, share + 0.02) if code == cp_model.OPTIMAL else max(0.05, share - 0.02)
        proven = bound is not None and incumbent.makespan <= bound
    solver.parameters.random_seed = seed
    if not proven:
        full_search(remaining())
    objective = float(incumbent.makespan)
    if bound is not None:
        bound = min(bound, objective)
    final_code = cp_model.OPTIMAL if proven else cp_model.FEASIBLE
    status = cpsat_status(final_code, objective, bound, Sense.MINIMISE, has_solution=True)
    return Result(
        problem="fjsp",
        instance_id=problem.id,
        status=status,
        objective=objective,
        bound=bound,
        gap=relative_gap(objective, bound, Sense.MINIMISE),
        wall_s=time.perf_counter() - started,
        solver=SolverInfo("CP-SAT", ortools_version(), threads, time_limit, seed),
        solution=incumbent,
        sense=Sense.MINIMISE,
    )


def _heads(problem: FjspProblem) -> list[list[int]]:
    """Earliest start of each operation: the shortest processing of its predecessors."""
    heads = []
    for job in problem.jobs:
        total = 0
        row = []
        for operation in job.operations:
            row.append(total)
            total += min(d for _, d in operation.alternatives)
        heads.append(row)
    return heads


def _tails(problem: FjspProblem) -> list[list[int]]:
    """Shortest processing after each operation (its own excluded)."""
    tails = []
    for job in problem.jobs:
        total = 0
        row = []
        for operation in reversed(job.operations):
            row.append(total)
            total += min(d for _, d in operation.alternatives)
        tails.append(list(reversed(row)))
    return tails
