"""Brandimarte instances are read strictly and solved by CP-SAT; the checker verifies each one."""

from __future__ import annotations

import dataclasses
import random
import time
from pathlib import Path

import pytest
from ortools.sat.python import cp_model

from opencdmo.engines.planning import (
    FjspSolution,
    InstanceError,
    SolveStatus,
    check_fjsp_solution,
    read_fjsp,
    solve,
)
from opencdmo.engines.planning.fjsp.dispatch import best_dispatched_schedule, dispatch_fjsp_schedule
from opencdmo.engines.planning.fjsp.lns import neighbourhood_search
from opencdmo.engines.planning.fjsp.model import build_fjsp_model
from opencdmo.engines.planning.fjsp.neighbourhood import (
    LARGEST_SHARE,
    SMALLEST_SHARE,
    Neighbourhoods,
)
from tests.engines.planning.conftest import BENCHMARKS

FJSP = BENCHMARKS / "fjsp"


def test_reads_mk01() -> None:
    """mk01 has 10 jobs on 6 machines; job 1 starts with an operation on machine 1 or 3."""
    problem = read_fjsp(FJSP / "mk01.fjs")
    assert (len(problem.jobs), problem.machine_count, problem.id) == (10, 6, "mk01")
    assert problem.jobs[0].operations[0].alternatives == ((1, 5), (3, 4))


@pytest.mark.parametrize(("name", "optimum"), [("mk01", 40), ("mk04", 60)])
def test_solves_to_proven_optimum(name: str, optimum: int) -> None:
    """mk01 and mk04 are solved to their proven optimal makespans.

    The solve stops once optimality is proven (a few seconds on an idle machine); the limit
    only leaves room for a machine busy with other work, where proving mk04 took over 20 s.
    """
    problem = read_fjsp(FJSP / f"{name}.fjs")
    result = solve(problem, time_limit=90, threads=2)
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == optimum
    assert result.solution is not None
    report = check_fjsp_solution(problem, result.solution, result.objective)
    assert report.ok, report.violations


def test_dispatched_start_is_feasible() -> None:
    """The deterministic and the randomised dispatched schedules pass the checker."""
    problem = read_fjsp(FJSP / "mk03.fjs")
    assert check_fjsp_solution(problem, dispatch_fjsp_schedule(problem)).ok
    best = best_dispatched_schedule(problem, random.Random(0), 0.2)
    assert check_fjsp_solution(problem, best).ok
    assert best.makespan <= dispatch_fjsp_schedule(problem).makespan


def test_neighbourhood_keeps_fixed_machines_and_order() -> None:
    """Operations outside the neighbourhood keep their machine and their order on it."""
    problem = read_fjsp(FJSP / "mk03.fjs")
    start = dispatch_fjsp_schedule(problem)
    _, free = Neighbourhoods(problem, random.Random(1)).draw(start)
    weights = dict.fromkeys(range(1, len(problem.jobs) + 1), 1)
    model = build_fjsp_model(problem, start.makespan, start, free, weights)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 2
    assert solver.solve(model.cp) in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    moved = model.solution(solver)
    assert check_fjsp_solution(problem, moved).ok
    assert moved.makespan <= start.makespan

    def fixed_order(schedule: FjspSolution) -> dict[int, list[tuple[int, int]]]:
        order: dict[int, list[tuple[int, int]]] = {}
        for a in sorted(schedule.operations, key=lambda a: (a.start, a.end)):
            if (a.job, a.operation) not in free:
                order.setdefault(a.machine, []).append((a.job, a.operation))
        return order

    assert 0 < len(free) < len(start.operations)
    assert fixed_order(moved) == fixed_order(start)


def test_neighbourhood_sizes_adapt_within_limits() -> None:
    """A kind's share grows after closed steps and shrinks after timeouts, within its limits."""
    neighbourhoods = Neighbourhoods(read_fjsp(FJSP / "mk01.fjs"), random.Random(0))
    for _ in range(100):
        neighbourhoods.report("window", closed=True)
        neighbourhoods.report("jobs", closed=False)
    assert neighbourhoods.shares["window"] == LARGEST_SHARE
    assert neighbourhoods.shares["jobs"] == SMALLEST_SHARE


def test_neighbourhood_search_shortens_a_dispatched_schedule() -> None:
    """Two threads of neighbourhood search shorten mk04's dispatched 73 in a second."""
    problem = read_fjsp(FJSP / "mk04.fjs")
    start = dispatch_fjsp_schedule(problem)
    best = neighbourhood_search(
        problem, start, deadline=time.perf_counter() + 1.0, threads=2, seed=0, bound=0.0
    )
    assert check_fjsp_solution(problem, best).ok
    assert best.makespan < start.makespan


def test_short_limit_is_honoured_with_a_valid_bound() -> None:
    """A 2 s solve of mk03 stops on time with a bound no higher than the proven optimum 204."""
    problem = read_fjsp(FJSP / "mk03.fjs")
    result = solve(problem, time_limit=2, threads=2)
    assert result.wall_s <= 2.5
    assert result.bound is not None
    assert result.objective is not None
    assert result.bound <= 204 <= result.objective
    assert result.solution is not None
    assert check_fjsp_solution(problem, result.solution, result.objective).ok


def test_checker_catches_overlap_and_wrong_machine() -> None:
    """Two operations on one machine at once, and an ineligible machine, are reported."""
    problem = read_fjsp(FJSP / "mk01.fjs")
    start = dispatch_fjsp_schedule(problem)
    operations = list(start.operations)
    first = operations[0]
    eligible = {
        m for m, _ in problem.jobs[first.job - 1].operations[first.operation - 1].alternatives
    }
    ineligible = min(set(range(1, problem.machine_count + 1)) - eligible)
    operations[0] = dataclasses.replace(first, machine=ineligible)
    report = check_fjsp_solution(problem, dataclasses.replace(start, operations=tuple(operations)))
    assert any("not eligible" in line for line in report.violations)
    same_machine = [a for a in start.operations if a.machine == start.operations[0].machine]
    moved = dataclasses.replace(
        same_machine[1],
        start=same_machine[0].start,
        end=same_machine[0].start + same_machine[1].end - same_machine[1].start,
    )
    operations = [moved if a == same_machine[1] else a for a in start.operations]
    report = check_fjsp_solution(problem, dataclasses.replace(start, operations=tuple(operations)))
    assert any("overlap" in line for line in report.violations)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2 2\n1 1 1 5\n", "header announces 2 jobs"),
        ("1 2\n1 1 3 5\n", "machine 3 out of range"),
        ("1 2\n2 1 1 5\n", "operation 2 of 2 is missing"),
        ("1 2\n1 1 1 x\n", "must be an integer"),
        ("1 2\n1 2 1 5\n", "needs 2 machine/time pairs"),
    ],
)
def test_rejects_malformed_files(tmp_path: Path, text: str, reason: str) -> None:
    """Malformed Brandimarte files are rejected with the file, the line and the reason."""
    file = tmp_path / "bad.fjs"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(InstanceError) as caught:
        read_fjsp(file)
    assert str(caught.value).startswith(f"{file}: ")
    assert reason in str(caught.value)
