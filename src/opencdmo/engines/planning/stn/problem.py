"""State-Task Network scheduling problem (format ``opencdmo-stn/1``, model ``stn-model.md``).

Field names follow the instance format, so that a validation error's path is the JSON path
of the offending field.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from opencdmo.engines.planning import validation as v
from opencdmo.engines.planning.errors import InstanceError


@dataclass(frozen=True)
class StnState:
    """A material.

    Attributes
    ----------
    name
        Unique name.
    initial_kg
        Inventory before the first draws at time 0 (kg).
    capacity_kg
        Maximum inventory at every grid point (kg); ``None`` for unlimited.
    price_per_kg
        Value of each kg held at the horizon (money/kg); negative for a penalty.
    """

    name: str
    initial_kg: float
    capacity_kg: float | None
    price_per_kg: float

    def __post_init__(self) -> None:
        v.name(self.name, "name")
        v.at_least(self.initial_kg, 0.0, "initial_kg")
        if self.capacity_kg is not None:
            v.at_least(self.capacity_kg, 0.0, "capacity_kg")
        v.finite(self.price_per_kg, "price_per_kg")


@dataclass(frozen=True)
class TaskInput:
    """A state drawn at a batch start, as a mass fraction of the batch."""

    state: str
    fraction: float

    def __post_init__(self) -> None:
        v.name(self.state, "state")
        v.positive(self.fraction, "fraction")


@dataclass(frozen=True)
class TaskOutput:
    """A state fed by a task, released in full ``release_after_h`` after the batch start."""

    state: str
    fraction: float
    release_after_h: float

    def __post_init__(self) -> None:
        v.name(self.state, "state")
        v.positive(self.fraction, "fraction")
        v.positive(self.release_after_h, "release_after_h")


@dataclass(frozen=True)
class StnTask:
    """A process operation with its input and output states."""

    name: str
    inputs: tuple[TaskInput, ...]
    outputs: tuple[TaskOutput, ...]

    def __post_init__(self) -> None:
        v.name(self.name, "name")
        v.require(len(self.inputs) >= 1, "inputs", "a task needs at least one input")
        v.require(len(self.outputs) >= 1, "outputs", "a task needs at least one output")
        v.unique_names((item.state for item in self.inputs), "inputs", "state")
        v.unique_names((item.state for item in self.outputs), "outputs", "state")
        v.fractions_sum_to_one([item.fraction for item in self.inputs], "inputs")
        v.fractions_sum_to_one([item.fraction for item in self.outputs], "outputs")

    @property
    def duration_h(self) -> float:
        """Processing time: the largest release delay (h)."""
        return max(item.release_after_h for item in self.outputs)


@dataclass(frozen=True)
class UnitTask:
    """A task a unit can run, with its batch limits, costs and cleaning time."""

    task: str
    bmin_kg: float
    bmax_kg: float
    fixed_cost: float
    variable_cost_per_kg: float
    cleaning_time_h: float

    def __post_init__(self) -> None:
        v.name(self.task, "task")
        v.at_least(self.bmin_kg, 0.0, "bmin_kg")
        v.finite(self.bmax_kg, "bmax_kg")
        v.require(
            self.bmax_kg >= self.bmin_kg,
            "bmax_kg",
            f"must be ≥ bmin_kg = {self.bmin_kg:g}, got {self.bmax_kg:g}",
        )
        v.finite(self.fixed_cost, "fixed_cost")
        v.finite(self.variable_cost_per_kg, "variable_cost_per_kg")
        v.at_least(self.cleaning_time_h, 0.0, "cleaning_time_h")


@dataclass(frozen=True)
class StnUnit:
    """A piece of equipment and the tasks it can run."""

    name: str
    tasks: tuple[UnitTask, ...]

    def __post_init__(self) -> None:
        v.name(self.name, "name")
        v.require(len(self.tasks) >= 1, "tasks", "a unit needs at least one task")
        v.unique_names((item.task for item in self.tasks), "tasks", "task")


@dataclass(frozen=True)
class StnProblem:
    """A State-Task Network scheduling instance on a uniform time grid.

    Attributes
    ----------
    id
        Identifier copied into the result.
    dt_h
        Grid step (h).
    horizon_h
        Horizon ``H`` (h), a whole multiple of ``dt_h``.
    states, tasks, units
        The network.
    """

    id: str
    dt_h: float
    horizon_h: float
    states: tuple[StnState, ...]
    tasks: tuple[StnTask, ...]
    units: tuple[StnUnit, ...]

    def __post_init__(self) -> None:
        v.name(self.id, "id")
        v.positive(self.dt_h, "time.dt_h")
        v.grid_steps(self.horizon_h, self.dt_h, "time.horizon_h", minimum_steps=1)
        v.require(len(self.states) >= 1, "states", "at least one state is needed")
        v.require(len(self.tasks) >= 1, "tasks", "at least one task is needed")
        v.require(len(self.units) >= 1, "units", "at least one unit is needed")
        v.unique_names((s.name for s in self.states), "states")
        v.unique_names((t.name for t in self.tasks), "tasks")
        v.unique_names((u.name for u in self.units), "units")
        state_names = {s.name for s in self.states}
        for t_index, task in enumerate(self.tasks):
            flows: list[tuple[str, int, str]] = [
                ("inputs", n, item.state) for n, item in enumerate(task.inputs)
            ] + [("outputs", n, item.state) for n, item in enumerate(task.outputs)]
            for key, f_index, state in flows:
                v.require(
                    state in state_names,
                    f"tasks[{t_index}].{key}[{f_index}].state",
                    f"unknown state {state!r}",
                )
            for o_index, output in enumerate(task.outputs):
                v.grid_steps(
                    output.release_after_h,
                    self.dt_h,
                    f"tasks[{t_index}].outputs[{o_index}].release_after_h",
                    minimum_steps=1,
                )
        task_names = {t.name for t in self.tasks}
        runnable: set[str] = set()
        for u_index, unit in enumerate(self.units):
            for k_index, unit_task in enumerate(unit.tasks):
                path = f"units[{u_index}].tasks[{k_index}]"
                v.require(
                    unit_task.task in task_names, f"{path}.task", f"unknown task {unit_task.task!r}"
                )
                v.grid_steps(unit_task.cleaning_time_h, self.dt_h, f"{path}.cleaning_time_h")
                runnable.add(unit_task.task)
        for t_index, task in enumerate(self.tasks):
            if task.name not in runnable:
                raise InstanceError(
                    f"tasks[{t_index}]", f"task {task.name!r} has no unit that can run it"
                )

    @cached_property
    def steps(self) -> int:
        """Number of grid steps ``N = H / dt``."""
        return round(self.horizon_h / self.dt_h)

    def to_steps(self, duration_h: float) -> int:
        """A duration in hours as a whole number of grid steps."""
        return round(duration_h / self.dt_h)

    def task_steps(self, task: StnTask) -> int:
        """Processing time ``p_i`` of ``task`` in grid steps."""
        return max(self.to_steps(output.release_after_h) for output in task.outputs)

    @cached_property
    def task_by_name(self) -> dict[str, StnTask]:
        """Tasks by name."""
        return {task.name: task for task in self.tasks}

    @cached_property
    def state_by_name(self) -> dict[str, StnState]:
        """States by name."""
        return {state.name: state for state in self.states}

    @cached_property
    def unit_by_name(self) -> dict[str, StnUnit]:
        """Units by name."""
        return {unit.name: unit for unit in self.units}
