"""Brandimarte instances are read strictly and solved by CP-SAT; the checker verifies each one."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from opencdmo.engines.planning import (
    InstanceError,
    SolveStatus,
    check_fjsp_solution,
    read_fjsp,
    solve,
)
from opencdmo.engines.planning.fjsp_solver import greedy_fjsp_schedule
from tests.engines.planning.conftest import BENCHMARKS

FJSP = BENCHMARKS / "fjsp"


def test_reads_mk01() -> None:
    """mk01 has 10 jobs on 6 machines; job 1 starts with an operation on machine 1 or 3."""
    problem = read_fjsp(FJSP / "mk01.fjs")
    assert (len(problem.jobs), problem.machine_count, problem.id) == (10, 6, "mk01")
    assert problem.jobs[0].operations[0].alternatives == ((1, 5), (3, 4))


@pytest.mark.parametrize(("name", "optimum"), [("mk01", 40), ("mk04", 60)])
def test_solves_to_proven_optimum(name: str, optimum: int) -> None:
    """mk01 and mk04 are solved to their proven optimal makespans."""
    problem = read_fjsp(FJSP / f"{name}.fjs")
    result = solve(problem, time_limit=20, threads=2)
    assert result.status is SolveStatus.OPTIMAL
    assert result.objective == optimum
    assert result.solution is not None
    report = check_fjsp_solution(problem, result.solution, result.objective)
    assert report.ok, report.violations


def test_greedy_start_is_feasible() -> None:
    """The heuristic starting schedule passes the checker."""
    problem = read_fjsp(FJSP / "mk03.fjs")
    start = greedy_fjsp_schedule(problem)
    assert check_fjsp_solution(problem, start).ok


def test_checker_catches_overlap_and_wrong_machine() -> None:
    """Two operations on one machine at once, and an ineligible machine, are reported."""
    problem = read_fjsp(FJSP / "mk01.fjs")
    start = greedy_fjsp_schedule(problem)
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
