"""Key integers first, then the completion: exact whether or not the two phases meet."""

from __future__ import annotations

import math
from typing import Any

import pytest

from opencdmo.engines.planning import (
    SolveStatus,
)
from opencdmo.engines.planning.solvers.highs import phases as highs_phases
from opencdmo.engines.planning.solvers.highs.model import LinearModel, MilpOutcome
from opencdmo.engines.planning.solvers.highs.phases import solve_in_phases


def _rounding_trap() -> tuple[LinearModel, int, int]:
    """max x − 0.5·y with x ≤ 2 + 0.9·y, x whole in [0, 10], y binary.

    With x relaxed the best is y = 1 (2.4); with y = 1 fixed a whole x gives only 1.5, while
    y = 0, x = 2 gives the true optimum 2.0.
    """
    model = LinearModel()
    y = model.add_var(0.0, 1.0, -0.5, integer=True)
    x = model.add_var(0.0, 10.0, 1.0, integer=True)
    model.add_row(-math.inf, 2.0, [x, y], [1.0, -0.9])
    return model, x, y


@pytest.mark.parametrize("searches", [1, 2])
def test_phases_that_do_not_meet_fall_back_to_the_full_model(searches: int) -> None:
    """The completion of the relaxed optimum (1.5) is not optimal: the full solve finds 2.0."""
    model, x, y = _rounding_trap()
    outcome = solve_in_phases(
        [model], [y], maximise=True, time_limit_s=10, searches=searches, seed=0
    )
    assert outcome.status is SolveStatus.OPTIMAL
    assert outcome.objective == pytest.approx(2.0)
    assert outcome.bound == pytest.approx(2.0)
    assert outcome.values is not None
    assert (round(outcome.values[x]), round(outcome.values[y])) == (2, 0)


def test_phases_that_meet_prove_optimality(monkeypatch: pytest.MonkeyPatch) -> None:
    """x ≤ 2 + y: the relaxed optimum (y = 1, x = 3) is whole, so the completion proves it
    and the full model is never solved."""
    model, x, y = _rounding_trap()
    model.row_value[model.row_start[0] + 1] = -1.0
    searches: list[LinearModel] = []
    real = highs_phases.race_milp

    def counted(searched: list[LinearModel], **kwargs: Any) -> MilpOutcome:
        searches.extend(searched)
        return real(searched, **kwargs)

    monkeypatch.setattr(highs_phases, "race_milp", counted)
    outcome = solve_in_phases([model], [y], maximise=True, time_limit_s=10, searches=1, seed=0)
    assert outcome.status is SolveStatus.OPTIMAL
    assert outcome.objective == pytest.approx(2.5)
    assert outcome.values is not None
    assert (round(outcome.values[x]), round(outcome.values[y])) == (3, 1)
    assert len(searches) == 1
    assert searches[0].col_integer == [True, False]


def test_infeasible_relaxation_means_infeasible() -> None:
    """No assignment at all: the relaxed phase already proves infeasibility."""
    model, x, y = _rounding_trap()
    model.add_row(4.0, math.inf, [x], [1.0])
    outcome = solve_in_phases([model], [y], maximise=True, time_limit_s=10, searches=1, seed=0)
    assert outcome.status is SolveStatus.INFEASIBLE
    assert outcome.values is None
