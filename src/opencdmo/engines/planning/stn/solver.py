"""The discrete-time STN MILP of ``stn-model.md``, solved with HiGHS."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from opencdmo.engines.planning.result import Result
from opencdmo.engines.planning.solvers.control import SolveControl, stopped
from opencdmo.engines.planning.solvers.highs.model import LinearModel, maximising_result
from opencdmo.engines.planning.solvers.highs.race import race_milp
from opencdmo.engines.planning.stn.problem import StnProblem
from opencdmo.engines.planning.stn.solution import StnBatch, StnSolution
from opencdmo.engines.progress import CancelToken, ProgressCallback

_SIZE_DECIMALS = 9
STN_HIGHS_OPTIONS: dict[str, bool | int | float | str] = {
    "mip_allow_restart": False,
    "mip_heuristic_run_feasibility_jump": False,
    "mip_heuristic_run_rins": False,
    "mip_heuristic_run_rens": False,
    "mip_pscost_minreliable": 0,
    "mip_heuristic_run_root_reduced_cost": False,
    "mip_pool_soft_limit": 50,
}
"""On STN models the root restart and these heuristics cost more than they save (measured):
Kondili H = 10 takes a median 0.056 s instead of 0.15 s; H = 24 … 168 are as fast or faster.
Branching on pseudocosts without strong-branching them reliable first (``minreliable`` 0)
explores a few more nodes but spends less time per node: H = 10 0.056 → 0.046 s, H = 24 … 168
unchanged. A cut pool of 50 instead of 10 000 and no reduced-cost heuristic at the root
(medians over seeds 0-4, unlimited storage): H = 10 0.056 → 0.028 s, H = 24 1.00 → 0.88 s,
H = 48 0.42 → 0.35 s, H = 96 1.11 → 0.59 s."""


@dataclass(frozen=True)
class _Start:
    """Columns of one possible batch start: task ``task`` in unit ``unit`` at step ``step``."""

    task: str
    unit: str
    step: int
    w_col: int
    b_col: int


def solve_stn(
    problem: StnProblem,
    *,
    time_limit: float = 600.0,
    threads: int = 1,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Result[StnSolution]:
    """Solve an STN instance to optimality (or until the time limit).

    Parameters
    ----------
    problem
        The instance.
    time_limit
        Wall-clock limit in seconds.
    threads
        Cores to use: that many single-thread HiGHS searches race (:func:`race_milp`).
    seed
        HiGHS random seed of the first search.
    progress
        Called with HiGHS's incumbent profit and upper bound as they improve, and with the
        share of the time limit used.
    cancel
        When cancelled, the searches stop within a fraction of a second and the best plan so
        far is returned, with ``cancelled`` set.

    Returns
    -------
    Result[StnSolution]
        Status, profit (money), upper bound, gap, time and the schedule.
    """
    started = time.perf_counter()
    control = SolveControl.of(progress, cancel, time_limit_s=time_limit, maximise=True)
    model, starts = _build(problem)
    outcome = race_milp(
        [model],
        maximise=True,
        time_limit_s=time_limit,
        searches=threads,
        seed=seed,
        options=STN_HIGHS_OPTIONS,
        control=control,
    )
    solution = None
    objective = None
    if outcome.values is not None:
        solution = _extract(problem, starts, [float(x) for x in outcome.values])
        objective = solution.profit
    return maximising_result(
        "stn",
        problem.id,
        outcome,
        solution,
        objective,
        started=started,
        threads=threads,
        time_limit=time_limit,
        seed=seed,
        cancelled=stopped(control),
    )


def _build(problem: StnProblem) -> tuple[LinearModel, list[_Start]]:
    n_steps = problem.steps
    model = LinearModel()
    starts: list[_Start] = []
    releases: dict[str, list[list[tuple[int, float]]]] = {
        s.name: [[] for _ in range(n_steps + 1)] for s in problem.states
    }
    draws: dict[str, list[list[tuple[int, float]]]] = {
        s.name: [[] for _ in range(n_steps + 1)] for s in problem.states
    }
    for unit in problem.units:
        occupancy: list[list[int]] = [[] for _ in range(n_steps + 1)]
        for unit_task in unit.tasks:
            task = problem.task_by_name[unit_task.task]
            duration = problem.task_steps(task)
            blocked = duration + problem.to_steps(unit_task.cleaning_time_h)
            for step in range(n_steps - duration + 1):
                w_col = model.add_var(0.0, 1.0, -unit_task.fixed_cost, integer=True)
                b_col = model.add_var(0.0, unit_task.bmax_kg, -unit_task.variable_cost_per_kg)
                starts.append(_Start(task.name, unit.name, step, w_col, b_col))
                model.add_row(-math.inf, 0.0, [b_col, w_col], [1.0, -unit_task.bmax_kg])
                if unit_task.bmin_kg > 0:
                    model.add_row(0.0, math.inf, [b_col, w_col], [1.0, -unit_task.bmin_kg])
                for busy in range(step, min(step + blocked, n_steps + 1)):
                    occupancy[busy].append(w_col)
                for flow in task.inputs:
                    draws[flow.state][step].append((b_col, flow.fraction))
                for output in task.outputs:
                    due = step + problem.to_steps(output.release_after_h)
                    releases[output.state][due].append((b_col, output.fraction))
        previous: list[int] | None = None
        for cols in occupancy:
            if len(cols) > 1 and cols != previous:
                model.add_row(-math.inf, 1.0, cols, [1.0] * len(cols))
            previous = cols
    for state in problem.states:
        upper = math.inf if state.capacity_kg is None else state.capacity_kg
        cols = [
            model.add_var(0.0, upper, state.price_per_kg if step == n_steps else 0.0)
            for step in range(n_steps + 1)
        ]
        for step in range(n_steps + 1):
            indices = [cols[step]]
            values = [1.0]
            if step > 0:
                indices.append(cols[step - 1])
                values.append(-1.0)
            for col, fraction in releases[state.name][step]:
                indices.append(col)
                values.append(-fraction)
            for col, fraction in draws[state.name][step]:
                indices.append(col)
                values.append(fraction)
            rhs = state.initial_kg if step == 0 else 0.0
            model.add_row(rhs, rhs, indices, values)
    return model, starts


def _extract(problem: StnProblem, starts: list[_Start], values: list[float]) -> StnSolution:
    dt_h = problem.dt_h
    n_steps = problem.steps
    batches: list[StnBatch] = []
    fixed_costs = 0.0
    variable_costs = 0.0
    levels = {s.name: [0.0] * (n_steps + 1) for s in problem.states}
    for start in starts:
        if values[start.w_col] < 0.5:
            continue
        unit_task = next(
            ut for ut in problem.unit_by_name[start.unit].tasks if ut.task == start.task
        )
        size = min(
            max(round(values[start.b_col], _SIZE_DECIMALS), unit_task.bmin_kg), unit_task.bmax_kg
        )
        if size == 0.0 and unit_task.fixed_cost == 0.0:
            continue
        task = problem.task_by_name[start.task]
        duration = problem.task_steps(task)
        batches.append(
            StnBatch(
                start.task, start.unit, start.step * dt_h, (start.step + duration) * dt_h, size
            )
        )
        fixed_costs += unit_task.fixed_cost
        variable_costs += unit_task.variable_cost_per_kg * size
        for flow in task.inputs:
            levels[flow.state][start.step] -= flow.fraction * size
        for output in task.outputs:
            levels[output.state][start.step + problem.to_steps(output.release_after_h)] += (
                output.fraction * size
            )
    inventory: dict[str, tuple[float, ...]] = {}
    inventory_value = 0.0
    for state in problem.states:
        running = state.initial_kg
        series = []
        for delta in levels[state.name]:
            running += delta
            series.append(_clean(running))
        inventory[state.name] = tuple(series)
        inventory_value += state.price_per_kg * series[-1]
    batches.sort(key=lambda b: (b.start_h, b.unit, b.task))
    return StnSolution(tuple(batches), inventory, inventory_value, fixed_costs, variable_costs)


def _clean(value: float) -> float:
    rounded = round(value, _SIZE_DECIMALS)
    return 0.0 if rounded == 0.0 else rounded
