"""A schedule of a State-Task Network instance."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from opencdmo.engines.planning import json_fields as jf
from opencdmo.engines.planning.result import GanttBar
from opencdmo.engines.planning.stn.problem import StnProblem


@dataclass(frozen=True)
class StnBatch:
    """One batch: a task run in a unit from ``start_h`` to ``end_h`` with ``batch_kg``."""

    task: str
    unit: str
    start_h: float
    end_h: float
    batch_kg: float


@dataclass(frozen=True)
class StnSolution:
    """Batches, inventories at every grid point and the objective parts.

    Attributes
    ----------
    batches
        Every batch run (zero-size batches without cost are left out).
    inventory_kg
        Inventory of every state at grid points ``0, dt, …, H`` (kg).
    inventory_value
        Σ price × inventory at the horizon (money).
    fixed_costs, variable_costs
        Batch costs (money).
    """

    batches: tuple[StnBatch, ...]
    inventory_kg: dict[str, tuple[float, ...]]
    inventory_value: float
    fixed_costs: float
    variable_costs: float

    @property
    def profit(self) -> float:
        """Objective: inventory value less batch costs (money)."""
        return self.inventory_value - self.fixed_costs - self.variable_costs

    def breakdown(self) -> dict[str, float]:
        """Objective parts as in ``opencdmo-result/1`` §4.3."""
        return {
            "inventory_value": self.inventory_value,
            "fixed_costs": self.fixed_costs,
            "variable_costs": self.variable_costs,
        }

    def schedule_document(self) -> dict[str, Any]:
        """The ``schedule`` object of the result document."""
        return {
            "batches": [
                {"task": b.task, "unit": b.unit, "start_h": b.start_h, "batch_kg": b.batch_kg}
                for b in self.batches
            ],
            "inventory_kg": {state: list(levels) for state, levels in self.inventory_kg.items()},
        }

    def gantt(self) -> list[GanttBar]:
        """One bar per batch on its unit, labelled with task and size."""
        return [
            GanttBar(b.unit, b.start_h, b.end_h, f"{b.task} ({b.batch_kg:g} kg)")
            for b in sorted(self.batches, key=lambda b: (b.unit, b.start_h))
        ]


def solution_from_document(
    problem: StnProblem, schedule: dict[str, Any], parts: dict[str, float]
) -> StnSolution:
    """The solution held in a result document's ``schedule`` and ``objective_breakdown``
    (``parts``): the reverse of :meth:`StnSolution.schedule_document`, for the checker."""
    batches = []
    for n, raw in enumerate(jf.array(schedule["batches"], "schedule.batches")):
        item = jf.obj(raw, f"schedule.batches[{n}]")
        task = problem.task_by_name.get(item["task"])
        start_h = jf.real(item["start_h"], f"schedule.batches[{n}].start_h")
        end_h = start_h + (task.duration_h if task is not None else 0.0)
        batches.append(
            StnBatch(
                item["task"],
                item["unit"],
                start_h,
                end_h,
                jf.real(item["batch_kg"], f"schedule.batches[{n}].batch_kg"),
            )
        )
    inventory = {
        state: tuple(float(x) for x in levels)
        for state, levels in jf.obj(schedule["inventory_kg"], "schedule.inventory_kg").items()
    }
    return StnSolution(
        tuple(batches),
        inventory,
        parts.get("inventory_value", float("nan")),
        parts.get("fixed_costs", float("nan")),
        parts.get("variable_costs", float("nan")),
    )
