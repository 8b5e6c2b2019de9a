"""Instances split into parts that share no suite and no upstream link, and solve as one."""

from __future__ import annotations

import pytest

from opencdmo.engines.planning import check_schedule_solution, parse_schedule, solve
from opencdmo.engines.planning.schedule_decomposition import independent_parts
from tests.engines.planning.test_schedule_solver import _one_suite


def _two_lines() -> dict:
    doc = _one_suite(["P", "Q", "P"], changeover_h=5)
    doc["suites"].append({"name": "T"})
    doc["batches"].append(
        {"id": "t0", "product": "Q", "options": [{"suite": "T", "duration_h": 7}]}
    )
    doc["objective"] = {"levels": [[{"kind": "changeover_cost"}]]}
    return doc


def test_unlinked_suites_form_parts() -> None:
    """Suite S and suite T share no batch: two parts, each with its own batches."""
    parts = independent_parts(parse_schedule(_two_lines()))
    assert sorted(len(p.batches) for p in parts) == [1, 3]


def test_upstream_links_and_makespan_keep_the_instance_whole() -> None:
    """A batch downstream of another links their suites; a makespan objective never splits."""
    linked = _two_lines()
    linked["batches"][-1]["upstream"] = "b0"
    assert len(independent_parts(parse_schedule(linked))) == 1
    timed = _two_lines()
    timed["objective"] = {"levels": [[{"kind": "makespan"}]]}
    assert len(independent_parts(parse_schedule(timed))) == 1


def test_parts_solve_to_the_whole_optimum() -> None:
    """P Q P on S needs one switch (cost 1), T none: optimal 1 with a bound of 1."""
    problem = parse_schedule(_two_lines())
    result = solve(problem, time_limit=10, seed=1)
    assert result.solution is not None
    assert check_schedule_solution(problem, result.solution, result.objective).ok
    assert result.objective == pytest.approx(1.0)
    assert result.bound == pytest.approx(1.0)
    assert result.status.value == "optimal"
