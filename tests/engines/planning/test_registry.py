"""One table of problem kinds serves ``solve``, the command line and ``read_result``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from opencdmo.engines import planning
from opencdmo.engines.planning import Sense, read_fjsp, read_schedule, read_stn, solve
from opencdmo.engines.planning.cli import _parser
from opencdmo.engines.planning.registry import PROBLEM_KINDS, kind_of, schedule_objective
from tests.engines.planning.conftest import BENCHMARKS, KONDILI, REPOSITORY


def test_every_kind_is_reachable_from_solve_and_the_command_line() -> None:
    """Each kind's problem class finds its entry, and each entry is a subcommand."""
    problems = {
        "stn": read_stn(KONDILI),
        "fjsp": read_fjsp(BENCHMARKS / "fjsp" / "mk01.fjs"),
        "schedule": read_schedule(BENCHMARKS / "two_site_suites.json"),
    }
    for name, problem in problems.items():
        assert kind_of(problem) is PROBLEM_KINDS[name]
    help_text = _parser().format_help()
    assert all(name in help_text for name in PROBLEM_KINDS)


def test_solve_rejects_what_no_kind_knows() -> None:
    """An object of no problem class is a TypeError naming its type."""
    with pytest.raises(TypeError, match="cannot solve a str"):
        solve("not a problem")  # type: ignore[call-overload]


def test_solve_fills_in_the_objective_meaning() -> None:
    """``solve`` says what the objective measures: makespan, time units, minimised."""
    result = solve(read_fjsp(BENCHMARKS / "fjsp" / "mk01.fjs"), time_limit=2)
    assert result.objective_meaning is not None
    assert result.objective_meaning.describe() == "makespan, time units, minimised"


def test_a_weighted_level_names_its_weights_and_units() -> None:
    """A level mixing lateness and changeover cost lists both units."""
    problem = read_schedule(BENCHMARKS / "two_site_suites.json")
    meaning = schedule_objective(problem)
    assert meaning.sense is Sense.MINIMISE
    assert "weighted lateness" in meaning.name


def test_the_public_api_keeps_its_names() -> None:
    """The package's ``__all__`` is importable, name by name."""
    for name in planning.__all__:
        assert hasattr(planning, name), name


def test_the_python_example_of_the_guide_runs() -> None:
    """The ``python`` block of docs/planning.md solves and cancels as it says."""
    guide = (REPOSITORY / "docs" / "planning.md").read_text(encoding="utf-8")
    [code] = re.findall(r"```python\n(.*?)```", guide, flags=re.DOTALL)
    code = code.replace("examples/planning/", f"{REPOSITORY / 'examples' / 'planning'}/")
    code = code.replace("progress=print", "progress=reports.append")
    namespace: dict[str, object] = {"reports": [], "print": lambda *args: None}
    exec(compile(code, str(Path("docs/planning.md")), "exec"), namespace)
    assert namespace["reports"]
