"""Independent checker of flexible job-shop schedules."""

from __future__ import annotations

import itertools

from opencdmo.engines.planning.check_report import CheckReport
from opencdmo.engines.planning.fjsp.problem import FjspProblem
from opencdmo.engines.planning.fjsp.solution import FjspSolution


def check_fjsp_solution(
    problem: FjspProblem, solution: FjspSolution, objective: float | None = None
) -> CheckReport:
    """Verify machine eligibility, durations, job order and machine capacity; recompute the makespan.

    Parameters
    ----------
    problem
        The instance.
    solution
        The schedule.
    objective
        The reported makespan, compared with the recomputed one if given.

    Returns
    -------
    CheckReport
        The recomputed makespan and every violation found.
    """
    violations: list[str] = []
    by_key = {(a.job, a.operation): a for a in solution.operations}
    expected = {
        (j, o)
        for j, job in enumerate(problem.jobs, start=1)
        for o in range(1, len(job.operations) + 1)
    }
    if set(by_key) != expected or len(by_key) != len(solution.operations):
        violations.append("every operation must be scheduled exactly once")
    for j, job in enumerate(problem.jobs, start=1):
        previous_end = 0
        for o, operation in enumerate(job.operations, start=1):
            a = by_key.get((j, o))
            if a is None:
                continue
            times = dict(operation.alternatives)
            if a.machine not in times:
                violations.append(f"J{j}.{o}: machine {a.machine} is not eligible")
            elif a.end - a.start != times[a.machine]:
                violations.append(
                    f"J{j}.{o}: lasts {a.end - a.start}, machine needs {times[a.machine]}"
                )
            if a.start < previous_end:
                violations.append(
                    f"J{j}.{o}: starts at {a.start} before the previous operation ends"
                )
            previous_end = a.end
    by_machine: dict[int, list[tuple[int, int, str]]] = {}
    for a in solution.operations:
        by_machine.setdefault(a.machine, []).append((a.start, a.end, f"J{a.job}.{a.operation}"))
    for machine, spans in by_machine.items():
        spans.sort()
        for (_, end, first), (start, _, second) in itertools.pairwise(spans):
            if start < end:
                violations.append(f"machine {machine}: {first} and {second} overlap")
    makespan = solution.makespan
    if objective is not None and abs(objective - makespan) > 1e-9:
        violations.append(f"objective: reported {objective:g}, recomputed {makespan}")
    return CheckReport(objective=float(makespan), violations=tuple(violations))
