"""CP-SAT model of a flexible job shop, whole or as a neighbourhood of an incumbent schedule."""

from __future__ import annotations

import itertools
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from ortools.sat.python import cp_model

from opencdmo.engines.planning.fjsp.problem import FjspProblem
from opencdmo.engines.planning.fjsp.solution import FjspAssignment, FjspSolution

Operation = tuple[int, int]
"""``(job, operation)``, both numbered from 1."""


@dataclass
class FjspModel:
    """A CP-SAT model and the variables a schedule is read from."""

    cp: cp_model.CpModel
    makespan: cp_model.IntVar
    starts: dict[Operation, cp_model.IntVar]
    ends: dict[Operation, cp_model.IntVar]
    chosen: dict[Operation, dict[int, cp_model.IntVar]]

    def solution(self, solver: cp_model.CpSolver) -> FjspSolution:
        """The schedule of the solver's last solution."""
        assignments = []
        for key, start in self.starts.items():
            machine = next(m for m, literal in self.chosen[key].items() if solver.value(literal))
            assignments.append(
                FjspAssignment(*key, machine, solver.value(start), solver.value(self.ends[key]))
            )
        return FjspSolution(tuple(assignments))


def build_fjsp_model(
    problem: FjspProblem,
    horizon: int,
    incumbent: FjspSolution,
    free: Collection[Operation] | None = None,
    job_weights: Mapping[int, int] | None = None,
) -> FjspModel:
    """Model the instance, hinted with ``incumbent``; operations outside ``free`` keep their
    machine and their order on it.

    ``free = None`` frees everything (the full model). Redundant constraints: each operation's
    head and tail (shortest processing before and after it in its job) bound its window, and
    the makespan is at least every machine's total load, which lifts the lower bound from the
    longest job to the busiest machine and proves optima such as mk05's 172.

    ``job_weights`` adds a tie-break below the makespan: the weighted sum of those jobs'
    completion times. Schedules of equal makespan then differ in cost, so
    a neighbourhood search keeps moving on a plateau instead of returning its hint.
    """
    cp = cp_model.CpModel()
    starts: dict[Operation, cp_model.IntVar] = {}
    ends: dict[Operation, cp_model.IntVar] = {}
    chosen: dict[Operation, dict[int, cp_model.IntVar]] = {}
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
            a = placed[j, o]
            keep = free is not None and (j, o) not in free
            alternatives = [(a.machine, a.end - a.start)] if keep else list(operation.alternatives)
            shortest = min(d for _, d in alternatives)
            low, high = heads[j - 1][o - 1], horizon - tails[j - 1][o - 1]
            start = cp.new_int_var(low, max(low, high - shortest), f"s{j}_{o}")
            end = cp.new_int_var(low + shortest, max(low + shortest, high), f"e{j}_{o}")
            chosen[j, o] = {}
            for machine, duration in alternatives:
                literal = cp.new_bool_var(f"x{j}_{o}_{machine}")
                per_machine[machine].append(
                    cp.new_optional_interval_var(
                        start, duration, end, literal, f"i{j}_{o}_{machine}"
                    )
                )
                chosen[j, o][machine] = literal
                loads[machine].append(duration * literal)
                cp.add_hint(literal, machine == a.machine)
            cp.add_exactly_one(chosen[j, o].values())
            cp.add_hint(start, a.start)
            cp.add_hint(end, a.end)
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
        _keep_machine_order(cp, incumbent, free, starts, ends)
    cp.add_hint(makespan, incumbent.makespan)
    if job_weights:
        tie_break = sum(
            w * ends[j, len(problem.jobs[j - 1].operations)] for j, w in job_weights.items()
        )
        cp.minimize((sum(job_weights.values()) * horizon + 1) * makespan + tie_break)
    else:
        cp.minimize(makespan)
    return FjspModel(cp, makespan, starts, ends, chosen)


def _keep_machine_order(
    cp: cp_model.CpModel,
    incumbent: FjspSolution,
    free: Collection[Operation],
    starts: Mapping[Operation, cp_model.IntVar],
    ends: Mapping[Operation, cp_model.IntVar],
) -> None:
    """Chain the fixed operations of each machine in their incumbent order."""
    by_machine: dict[int, list[FjspAssignment]] = {}
    for a in incumbent.operations:
        if (a.job, a.operation) not in free:
            by_machine.setdefault(a.machine, []).append(a)
    for sequence in by_machine.values():
        sequence.sort(key=lambda a: (a.start, a.end))
        for first, second in itertools.pairwise(sequence):
            cp.add(starts[second.job, second.operation] >= ends[first.job, first.operation])


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
