"""Use several cores on one MILP: differently seeded HiGHS searches race in forked processes.

HiGHS's branch and bound runs on one thread, and on the campaign models a second HiGHS thread
buys nothing, while the time to optimality varies several-fold with the random seed. Racing
``n`` searches seeded ``seed, seed + 1, …`` and keeping the first that finishes turns ``n``
cores into the fastest of ``n`` draws, the concurrent-MIP idea of the commercial solvers.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from opencdmo.engines.planning.result import SolveStatus
from opencdmo.engines.planning.solvers.control import SolveControl
from opencdmo.engines.planning.solvers.forked_runs import can_fork, run_forked
from opencdmo.engines.planning.solvers.highs.model import (
    LinearModel,
    MilpOutcome,
    solve_milp,
    tightest_bound,
    with_bound,
)

FINISHED = (SolveStatus.OPTIMAL, SolveStatus.INFEASIBLE)
"""A search that ends in one of these has answered the question; the others can stop."""

GRACE_S = 5.0
"""Time a search may overrun its own limit before the race gives up on it."""


def race_milp(
    models: Sequence[LinearModel],
    *,
    maximise: bool,
    time_limit_s: float,
    searches: int,
    seed: int,
    options: Mapping[str, bool | int | float | str] | None = None,
    model_options: Sequence[Mapping[str, bool | int | float | str]] | None = None,
    start: NDArray[np.float64] | None = None,
    control: SolveControl | None = None,
) -> MilpOutcome:
    """Solve a MILP with ``searches`` single-thread HiGHS runs seeded ``seed, seed + 1, …``.

    ``models`` are formulations of the same programme over the same columns (for example
    with and without some valid inequalities); run ``k`` solves ``models[k mod len]`` with
    ``model_options[k mod len]`` over ``options``, so the race diversifies over formulations
    and settings as well as seeds. The first run that proves
    optimality or infeasibility wins and the others are stopped. If every run stops at the
    time limit, the best solution and the tightest bound of all runs are combined (each run's
    bound is valid, so the tightest is too). With one search, or where processes cannot be
    forked, this is :func:`solve_milp` in this process.

    Parameters
    ----------
    models
        The programme, in one or more equivalent formulations; the first is used alone.
    maximise
        Direction of the objective.
    time_limit_s
        Wall-clock limit of each search in seconds.
    searches
        Number of racing searches (cores to use).
    seed
        Seed of the first search.
    options
        Further HiGHS options, by name.
    model_options
        HiGHS options of each formulation, over ``options``; ``None``: none.
    start
        A known plan (every column) each search starts from.
    control
        Progress and cancel; each search reports through it and stops when cancelled.

    Returns
    -------
    MilpOutcome
        The winning (or combined) outcome; ``nodes`` are those of the run reported.
    """
    run = functools.partial(
        solve_milp, maximise=maximise, time_limit_s=time_limit_s, threads=1, start=start
    )
    settings = [
        {**(options or {}), **(model_options[index] if model_options else {})}
        for index in range(len(models))
    ]
    if searches <= 1 or not can_fork():
        return run(models[0], seed=seed, options=settings[0], control=control)
    outcomes = run_forked(
        [
            functools.partial(
                run,
                models[offset % len(models)],
                seed=seed + offset,
                options=settings[offset % len(models)],
            )
            for offset in range(searches)
        ],
        timeout_s=time_limit_s + GRACE_S,
        decisive=lambda outcome: outcome.status in FINISHED,
        control=control,
    )
    if len(outcomes) == 1 and outcomes[0].status in FINISHED:
        return outcomes[0]
    return _combine(outcomes, maximise)


def _combine(outcomes: list[MilpOutcome], maximise: bool) -> MilpOutcome:
    """The best solution found by any run, with the tightest bound any run proved."""
    sign = 1.0 if maximise else -1.0
    with_solution = [o for o in outcomes if o.objective is not None]
    best = (
        max(with_solution, key=lambda o: sign * (o.objective or 0.0))
        if with_solution
        else outcomes[0]
    )
    bound = tightest_bound((o.bound for o in outcomes), maximise)
    return with_bound(best, bound, best.nodes, maximise)
