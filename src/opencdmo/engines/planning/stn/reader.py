"""Reader of the ``opencdmo-stn/1`` instance format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from opencdmo.engines.planning import json_fields as jf
from opencdmo.engines.planning.errors import InstanceError
from opencdmo.engines.planning.stn.problem import (
    StnProblem,
    StnState,
    StnTask,
    StnUnit,
    TaskInput,
    TaskOutput,
    UnitTask,
)

STN_FORMAT = "opencdmo-stn/1"
STN_CONVENTIONS: dict[str, Any] = {
    "time_grid": "uniform_discrete",
    "allocation": "shah_aggregated",
    "end_of_horizon": "batches_complete_by_horizon",
    "material_transfer": "at_grid_points",
    "storage_check": "grid_points",
    "objective": "end_inventory_value_minus_batch_costs",
}
_TOP_KEYS = ("format", "id", "time", "states", "tasks", "units", "conventions")
_INFO_KEYS = ("title", "description", "money_unit", "reference", "provenance")


def read_stn(path: Path | str) -> StnProblem:
    """Read an ``opencdmo-stn/1`` file.

    Parameters
    ----------
    path
        The instance file.

    Returns
    -------
    StnProblem
        The validated problem.

    Raises
    ------
    InstanceError
        Naming the file, the JSON path and the reason, for any malformed or inconsistent field.
    """
    document = jf.load_document(path)
    return parse_stn(document, source=str(path))


def parse_stn(document: dict[str, Any], source: str | None = None) -> StnProblem:
    """Build an :class:`StnProblem` from a parsed ``opencdmo-stn/1`` document.

    Parameters
    ----------
    document
        The parsed JSON object.
    source
        File name for error messages.

    Returns
    -------
    StnProblem
        The validated problem.
    """
    try:
        return _parse(document)
    except InstanceError as error:
        raise error.within("", source) from None


def _parse(document: dict[str, Any]) -> StnProblem:
    jf.format_tag(document, STN_FORMAT)
    jf.keys(document, "", _TOP_KEYS, _INFO_KEYS)
    jf.conventions(document["conventions"], "conventions", STN_CONVENTIONS)
    time = jf.obj(document["time"], "time")
    jf.keys(time, "time", ("dt_h", "horizon_h"))
    dt_h = jf.real(time["dt_h"], "time.dt_h")
    horizon_h = jf.real(time["horizon_h"], "time.horizon_h")
    states = tuple(
        _state(item, f"states[{n}]")
        for n, item in enumerate(jf.array(document["states"], "states", 1))
    )
    tasks = tuple(
        _task(item, f"tasks[{n}]") for n, item in enumerate(jf.array(document["tasks"], "tasks", 1))
    )
    units = tuple(
        _unit(item, f"units[{n}]") for n, item in enumerate(jf.array(document["units"], "units", 1))
    )
    return jf.construct(
        StnProblem,
        "",
        id=jf.identifier(document["id"], "id"),
        dt_h=dt_h,
        horizon_h=horizon_h,
        states=states,
        tasks=tasks,
        units=units,
    )


def _state(value: Any, path: str) -> StnState:
    item = jf.obj(value, path)
    jf.keys(item, path, ("name", "initial_kg", "capacity_kg", "price_per_kg"))
    return jf.construct(
        StnState,
        path,
        name=jf.string(item["name"], f"{path}.name"),
        initial_kg=jf.real(item["initial_kg"], f"{path}.initial_kg"),
        capacity_kg=jf.number(item["capacity_kg"], f"{path}.capacity_kg", nullable=True),
        price_per_kg=jf.real(item["price_per_kg"], f"{path}.price_per_kg"),
    )


def _input(value: Any, path: str) -> TaskInput:
    item = jf.obj(value, path)
    jf.keys(item, path, ("state", "fraction"))
    return jf.construct(
        TaskInput,
        path,
        state=jf.string(item["state"], f"{path}.state"),
        fraction=jf.real(item["fraction"], f"{path}.fraction"),
    )


def _output(value: Any, path: str) -> TaskOutput:
    item = jf.obj(value, path)
    jf.keys(item, path, ("state", "fraction", "release_after_h"))
    return jf.construct(
        TaskOutput,
        path,
        state=jf.string(item["state"], f"{path}.state"),
        fraction=jf.real(item["fraction"], f"{path}.fraction"),
        release_after_h=jf.real(item["release_after_h"], f"{path}.release_after_h"),
    )


def _task(value: Any, path: str) -> StnTask:
    item = jf.obj(value, path)
    jf.keys(item, path, ("name", "inputs", "outputs"))
    inputs = jf.array(item["inputs"], f"{path}.inputs", 1)
    outputs = jf.array(item["outputs"], f"{path}.outputs", 1)
    return jf.construct(
        StnTask,
        path,
        name=jf.string(item["name"], f"{path}.name"),
        inputs=tuple(_input(raw, f"{path}.inputs[{n}]") for n, raw in enumerate(inputs)),
        outputs=tuple(_output(raw, f"{path}.outputs[{n}]") for n, raw in enumerate(outputs)),
    )


_UNIT_TASK_NUMBERS = ("bmin_kg", "bmax_kg", "fixed_cost", "variable_cost_per_kg", "cleaning_time_h")


def _unit_task(value: Any, path: str) -> UnitTask:
    item = jf.obj(value, path)
    jf.keys(item, path, ("task", *_UNIT_TASK_NUMBERS))
    numbers = {key: jf.real(item[key], f"{path}.{key}") for key in _UNIT_TASK_NUMBERS}
    return jf.construct(UnitTask, path, task=jf.string(item["task"], f"{path}.task"), **numbers)


def _unit(value: Any, path: str) -> StnUnit:
    item = jf.obj(value, path)
    jf.keys(item, path, ("name", "tasks"))
    tasks = jf.array(item["tasks"], f"{path}.tasks", 1)
    return jf.construct(
        StnUnit,
        path,
        name=jf.string(item["name"], f"{path}.name"),
        tasks=tuple(_unit_task(raw, f"{path}.tasks[{n}]") for n, raw in enumerate(tasks)),
    )
