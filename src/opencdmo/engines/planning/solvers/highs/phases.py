"""Solve a MILP whose hard part is a few key integer columns: those first, the rest after.

Some models are cheap once their key decisions are known. In the campaign model, with the
suite assignments (``Y``, ``U``) fixed, the remaining programme is small and its relaxation is
usually already whole. Branching on the other integers (campaign starts, lead times, batch
counts) while the assignments are still open costs most of the search. This module solves:

1. the **relaxed** model, with only the key columns integer: its optimum bounds the true one;
2. the **completion**, the full model with the key columns fixed at that optimum: a plan;
3. where the two do not meet, the **full** model, started from that plan, with the bound of
   step 1 kept.

Every answer is exact: ``optimal`` is reported only when a whole plan reaches a proven bound.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Collection, Mapping, Sequence

from opencdmo.engines.planning.result import SolveStatus
from opencdmo.engines.planning.solvers.control import SolveControl, stopped
from opencdmo.engines.planning.solvers.highs.model import (
    LinearModel,
    MilpOutcome,
    solve_milp,
    tightest_bound,
    with_bound,
)
from opencdmo.engines.planning.solvers.highs.race import race_milp


def solve_in_phases(
    models: Sequence[LinearModel],
    key_columns: Collection[int],
    *,
    maximise: bool,
    time_limit_s: float,
    searches: int,
    seed: int,
    options: Mapping[str, bool | int | float | str] | None = None,
    model_options: Sequence[Mapping[str, bool | int | float | str]] | None = None,
    control: SolveControl | None = None,
) -> MilpOutcome:
    """Solve a MILP exactly, deciding the integer ``key_columns`` first.

    Parameters
    ----------
    models
        The full programme in one or more formulations over the same columns; racing
        searches take turns over them (:func:`race_milp`), the completion uses the first.
    key_columns
        Integer columns that, once fixed, leave an easy programme.
    maximise
        Direction of the objective.
    time_limit_s
        Wall-clock limit for all phases together.
    searches
        Racing HiGHS searches (cores) for the relaxed and the full model.
    seed
        Seed of the first search.
    options
        Further HiGHS options, by name.
    model_options
        HiGHS options of each formulation in the races, over ``options``.
    control
        Progress and cancel. The relaxed phase reports bounds only; a cancel ends it with
        its bound, the completion still runs (it is small, and gives the plan), and the full
        phase is skipped.

    Returns
    -------
    MilpOutcome
        The plan, the tightest proven bound, and the nodes of all phases.
    """
    deadline = time.monotonic() + time_limit_s
    keys = set(key_columns)
    model = models[0]
    relaxed = [
        dataclasses.replace(
            formulation,
            col_integer=[
                flag and column in keys for column, flag in enumerate(formulation.col_integer)
            ],
        )
        for formulation in models
    ]
    first = race_milp(
        relaxed,
        maximise=maximise,
        time_limit_s=time_limit_s,
        searches=searches,
        seed=seed,
        options=options,
        model_options=model_options,
        control=None if control is None else control.bounds_only(),
    )
    if first.status is SolveStatus.INFEASIBLE or first.values is None:
        return first
    lower = list(model.col_lower)
    upper = list(model.col_upper)
    for column in keys:
        lower[column] = upper[column] = float(round(first.values[column]))
    completion = solve_milp(
        dataclasses.replace(model, col_lower=lower, col_upper=upper),
        maximise=maximise,
        time_limit_s=max(0.0, deadline - time.monotonic()),
        threads=1,
        seed=seed,
        options=options,
        control=None if control is None else dataclasses.replace(control, cancel=None),
    )
    nodes = first.nodes + completion.nodes
    plan = completion if completion.values is not None else None
    if plan is not None:
        completed = with_bound(plan, first.bound, nodes, maximise)
        if completed.status is SolveStatus.OPTIMAL:
            return completed
    if first.status is not SolveStatus.OPTIMAL or time.monotonic() >= deadline or stopped(control):
        if plan is None:
            return MilpOutcome(SolveStatus.TIME_LIMIT, None, first.bound, None, nodes)
        return MilpOutcome(SolveStatus.TIME_LIMIT, plan.objective, first.bound, plan.values, nodes)
    full = race_milp(
        models,
        maximise=maximise,
        time_limit_s=max(0.0, deadline - time.monotonic()),
        searches=searches,
        seed=seed,
        options=options,
        model_options=model_options,
        start=None if plan is None else plan.values,
        control=control,
    )
    bound = tightest_bound((first.bound, full.bound), maximise)
    return with_bound(full, bound, nodes + full.nodes, maximise)
