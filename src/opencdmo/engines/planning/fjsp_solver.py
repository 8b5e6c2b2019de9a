"""Flexible job-shop scheduling with OR-Tools CP-SAT."""

from __future__ import annotations

import time

from ortools.sat.python import cp_model

from opencdmo.engines.planning.cpsat_status import cpsat_status, ortools_version
from opencdmo.engines.planning.fjsp_problem import FjspProblem
from opencdmo.engines.planning.fjsp_solution import FjspAssignment, FjspSolution
from opencdmo.engines.planning.result import Result, Sense, SolverInfo, relative_gap


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


def solve_fjsp(
    problem: FjspProblem, *, time_limit: float = 600.0, threads: int = 1, seed: int = 0
) -> Result[FjspSolution]:
    """Minimise the makespan of a flexible job shop.

    Parameters
    ----------
    problem
        The instance.
    time_limit
        Wall-clock limit in seconds.
    threads
        CP-SAT workers.
    seed
        CP-SAT random seed.

    Returns
    -------
    Result[FjspSolution]
        Status, makespan, proven lower bound, gap, time and the schedule.
    """
    started = time.perf_counter()
    start_solution = greedy_fjsp_schedule(problem)
    horizon = start_solution.makespan
    model = cp_model.CpModel()
    starts: dict[tuple[int, int], cp_model.IntVar] = {}
    ends: dict[tuple[int, int], cp_model.IntVar] = {}
    chosen: dict[tuple[int, int, int], cp_model.IntVar] = {}
    per_machine: dict[int, list[cp_model.IntervalVar]] = {
        m: [] for m in range(1, problem.machine_count + 1)
    }
    loads: dict[int, list[cp_model.LinearExprT]] = {m: [] for m in per_machine}
    makespan = model.new_int_var(0, horizon, "makespan")
    tails = _tails(problem)
    heads = _heads(problem)
    for j, job in enumerate(problem.jobs, start=1):
        for o, operation in enumerate(job.operations, start=1):
            durations = [d for _, d in operation.alternatives]
            low, high = heads[j - 1][o - 1], horizon - tails[j - 1][o - 1]
            start = model.new_int_var(low, high - min(durations), f"s{j}_{o}")
            end = model.new_int_var(low + min(durations), high, f"e{j}_{o}")
            size = model.new_int_var_from_domain(
                cp_model.Domain.from_values(sorted(set(durations))), f"d{j}_{o}"
            )
            model.new_interval_var(start, size, end, f"i{j}_{o}")
            literals = []
            for machine, duration in operation.alternatives:
                literal = model.new_bool_var(f"x{j}_{o}_{machine}")
                interval = model.new_optional_interval_var(
                    start, duration, end, literal, f"i{j}_{o}_{machine}"
                )
                per_machine[machine].append(interval)
                chosen[j, o, machine] = literal
                loads[machine].append(duration * literal)
                literals.append(literal)
                model.add(size == duration).only_enforce_if(literal)
            model.add_exactly_one(literals)
            starts[j, o] = start
            ends[j, o] = end
            if o > 1:
                model.add(start >= ends[j, o - 1])
        model.add(makespan >= ends[j, len(job.operations)])
    for intervals in per_machine.values():
        if len(intervals) > 1:
            model.add_no_overlap(intervals)
    # Redundant: no machine can finish before its total load; this lifts the lower bound
    # from the longest job to the busiest machine and proves optima such as mk05's 172.
    for machine_loads in loads.values():
        if machine_loads:
            model.add(makespan >= sum(machine_loads))
    model.minimize(makespan)
    for a in start_solution.operations:
        model.add_hint(starts[a.job, a.operation], a.start)
        for machine, _ in problem.jobs[a.job - 1].operations[a.operation - 1].alternatives:
            model.add_hint(chosen[a.job, a.operation, machine], machine == a.machine)
    model.add_hint(makespan, horizon)

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.0, time_limit - (time.perf_counter() - started))
    solver.parameters.num_workers = threads
    solver.parameters.random_seed = seed
    code = solver.solve(model)
    solution: FjspSolution | None = start_solution
    bound = (
        float(solver.best_objective_bound)
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        else None
    )
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        solution = FjspSolution(
            tuple(
                FjspAssignment(
                    j,
                    o,
                    next(
                        m
                        for (jj, oo, m), lit in chosen.items()
                        if (jj, oo) == (j, o) and solver.value(lit)
                    ),
                    solver.value(starts[j, o]),
                    solver.value(ends[j, o]),
                )
                for (j, o) in starts
            )
        )
    objective = float(solution.makespan) if solution is not None else None
    status = cpsat_status(code, objective, bound, Sense.MINIMISE, has_solution=solution is not None)
    return Result(
        problem="fjsp",
        instance_id=problem.id,
        status=status,
        objective=objective,
        bound=bound,
        gap=relative_gap(objective, bound, Sense.MINIMISE),
        wall_s=time.perf_counter() - started,
        solver=SolverInfo("CP-SAT", ortools_version(), threads, time_limit, seed),
        solution=solution,
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
