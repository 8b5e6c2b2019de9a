"""Independent checker of STN schedules: recomputes balances and profit, no solver involved."""

from __future__ import annotations

import math

from opencdmo.engines.planning.check_report import CheckReport, objective_matches
from opencdmo.engines.planning.stn.problem import StnProblem
from opencdmo.engines.planning.stn.solution import StnSolution

QUANTITY_TOLERANCE = 1e-5


def check_stn_solution(
    problem: StnProblem, solution: StnSolution, objective: float | None = None
) -> CheckReport:
    """Verify every constraint of ``stn-model.md`` on a schedule and recompute its profit.

    Parameters
    ----------
    problem
        The instance.
    solution
        The schedule to verify.
    objective
        The objective reported with the schedule, compared with the recomputed one if given.

    Returns
    -------
    CheckReport
        The recomputed profit (money) and every violation found.
    """
    tol = QUANTITY_TOLERANCE
    n_steps = problem.steps
    dt_h = problem.dt_h
    violations: list[str] = []
    delta = {state.name: [0.0] * (n_steps + 1) for state in problem.states}
    busy: dict[str, list[str | None]] = {
        unit.name: [None] * (n_steps + 1) for unit in problem.units
    }
    fixed_costs = 0.0
    variable_costs = 0.0
    for index, batch in enumerate(solution.batches):
        where = f"batch {index} ({batch.task} in {batch.unit} at {batch.start_h:g} h)"
        task = problem.task_by_name.get(batch.task)
        unit = problem.unit_by_name.get(batch.unit)
        if task is None or unit is None:
            violations.append(f"{where}: unknown task or unit")
            continue
        unit_task = next((ut for ut in unit.tasks if ut.task == batch.task), None)
        if unit_task is None:
            violations.append(f"{where}: unit {batch.unit} cannot run {batch.task}")
            continue
        step = round(batch.start_h / dt_h)
        if abs(step * dt_h - batch.start_h) > tol or step < 0:
            violations.append(f"{where}: start is not a grid point")
            continue
        duration = max(round(o.release_after_h / dt_h) for o in task.outputs)
        if step + duration > n_steps:
            violations.append(f"{where}: ends after the horizon")
            continue
        if not unit_task.bmin_kg - tol <= batch.batch_kg <= unit_task.bmax_kg + tol:
            violations.append(
                f"{where}: size {batch.batch_kg:g} kg outside "
                f"[{unit_task.bmin_kg:g}, {unit_task.bmax_kg:g}]"
            )
        blocked = duration + round(unit_task.cleaning_time_h / dt_h)
        for point in range(step, min(step + blocked, n_steps + 1)):
            holder = busy[batch.unit][point]
            if holder is not None:
                violations.append(f"{where}: unit already busy with {holder} at step {point}")
            busy[batch.unit][point] = where
        fixed_costs += unit_task.fixed_cost
        variable_costs += unit_task.variable_cost_per_kg * batch.batch_kg
        for flow in task.inputs:
            delta[flow.state][step] -= flow.fraction * batch.batch_kg
        for output in task.outputs:
            delta[output.state][step + round(output.release_after_h / dt_h)] += (
                output.fraction * batch.batch_kg
            )
    inventory_value = 0.0
    for state in problem.states:
        reported = solution.inventory_kg.get(state.name)
        if reported is None or len(reported) != n_steps + 1:
            violations.append(f"state {state.name}: inventory must list {n_steps + 1} grid points")
            reported = None
        level = state.initial_kg
        for step in range(n_steps + 1):
            level += delta[state.name][step]
            if level < -tol:
                violations.append(
                    f"state {state.name}: negative inventory {level:g} kg at step {step}"
                )
            if state.capacity_kg is not None and level > state.capacity_kg + tol:
                violations.append(
                    f"state {state.name}: inventory {level:g} kg above capacity "
                    f"{state.capacity_kg:g} kg at step {step}"
                )
            if reported is not None and abs(reported[step] - level) > tol:
                violations.append(
                    f"state {state.name}: reported inventory {reported[step]:g} kg at step {step} "
                    f"differs from the balance {level:g} kg"
                )
        inventory_value += state.price_per_kg * level
    profit = inventory_value - fixed_costs - variable_costs
    for label, reported_part, recomputed in (
        ("inventory_value", solution.inventory_value, inventory_value),
        ("fixed_costs", solution.fixed_costs, fixed_costs),
        ("variable_costs", solution.variable_costs, variable_costs),
    ):
        if not math.isnan(reported_part) and not objective_matches(reported_part, recomputed):
            violations.append(
                f"breakdown {label}: reported {reported_part:g}, recomputed {recomputed:g}"
            )
    if objective is not None and not (
        math.isfinite(objective) and objective_matches(objective, profit)
    ):
        violations.append(f"objective: reported {objective:g}, recomputed {profit:g}")
    return CheckReport(objective=profit, violations=tuple(violations))
