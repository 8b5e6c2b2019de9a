"""The STN reader rejects malformed instances with the file, the JSON path and the reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from opencdmo.engines.planning import InstanceError, parse_stn, read_stn
from tests.engines.planning.conftest import KONDILI


def rejection(document: dict[str, Any], tmp_path: Path) -> str:
    """Write ``document`` to a file, read it, and return the error message."""
    path = tmp_path / "instance.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(InstanceError) as caught:
        read_stn(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    return message


def test_reads_the_reference_instance() -> None:
    """The Kondili file yields 9 states, 5 tasks, 4 units on a 10-step grid."""
    problem = read_stn(KONDILI)
    assert (len(problem.states), len(problem.tasks), len(problem.units), problem.steps) == (
        9,
        5,
        4,
        10,
    )


@pytest.mark.parametrize(
    ("edit", "path", "reason"),
    [
        (
            lambda d: d["tasks"][2]["inputs"][0].update(state="Hot_X"),
            "tasks[2].inputs[0].state",
            "unknown state 'Hot_X'",
        ),
        (lambda d: d["states"][0].update(capacity_kg=-5), "states[0].capacity_kg", "must be ≥ 0"),
        (lambda d: d["tasks"][1]["inputs"][0].update(fraction=0.6), "tasks[1].inputs", "sum to 1"),
        (
            lambda d: d["units"][2]["tasks"][0].update(bmax_kg=-1),
            "units[2].tasks[0].bmax_kg",
            "must be ≥ bmin_kg",
        ),
        (
            lambda d: d["units"][3]["tasks"][0].update(task="Distill"),
            "units[3].tasks[0].task",
            "unknown task 'Distill'",
        ),
        (lambda d: d["units"].pop(3), "tasks[4]", "has no unit"),
        (
            lambda d: d["units"][0]["tasks"][0].update(bmax_kg="100"),
            "units[0].tasks[0].bmax_kg",
            "must be a number",
        ),
        (
            lambda d: d["units"][0]["tasks"][0].update(bmax=100),
            "units[0].tasks[0].bmax",
            "unknown key",
        ),
        (
            lambda d: d["states"][0].pop("initial_kg"),
            "states[0].initial_kg",
            "missing required key",
        ),
        (lambda d: d["time"].update(horizon_h=10.5), "time.horizon_h", "whole multiple of dt_h"),
        (
            lambda d: d["tasks"][0]["outputs"][0].update(release_after_h=0),
            "tasks[0].outputs[0].release_after_h",
            "must be > 0",
        ),
        (
            lambda d: d["states"][1].update(name="Feed_A"),
            "states[1].name",
            "duplicate name 'Feed_A'",
        ),
        (
            lambda d: d["conventions"].update(storage_check="continuous"),
            "conventions.storage_check",
            "must be",
        ),
        (lambda d: d.update(format="opencdmo-stn/2"), "format", "must be 'opencdmo-stn/1'"),
        (lambda d: d.update(id="Kondili H10"), "id", "must match [a-z0-9_.-]+"),
    ],
)
def test_rejects_bad_field(
    kondili_document: dict[str, Any], tmp_path: Path, edit: Any, path: str, reason: str
) -> None:
    """Each malformed field is named with its JSON path and a reason."""
    edit(kondili_document)
    message = rejection(kondili_document, tmp_path)
    assert f": {path}: " in message
    assert reason in message


def test_rejects_nan_and_non_object(tmp_path: Path) -> None:
    """NaN is not JSON and a top-level array is not an instance."""
    nan_file = tmp_path / "nan.json"
    nan_file.write_text('{"format": "opencdmo-stn/1", "x": NaN}', encoding="utf-8")
    with pytest.raises(InstanceError, match="NaN is not allowed"):
        read_stn(nan_file)
    list_file = tmp_path / "list.json"
    list_file.write_text("[]", encoding="utf-8")
    with pytest.raises(InstanceError, match="top level must be a JSON object"):
        read_stn(list_file)


def test_missing_file_is_reported(tmp_path: Path) -> None:
    """A missing file is an instance error naming the file."""
    with pytest.raises(InstanceError, match="cannot read file"):
        read_stn(tmp_path / "absent.json")


def test_informational_blocks_are_ignored(kondili_document: dict[str, Any]) -> None:
    """reference and provenance may hold anything."""
    kondili_document["reference"] = {"objective": 1, "anything": [1, 2]}
    kondili_document["provenance"] = {"who": "x"}
    assert parse_stn(kondili_document).id == "kondili_h10_unlimited_storage"
