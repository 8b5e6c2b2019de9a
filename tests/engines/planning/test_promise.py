"""Capable-to-promise on hand-built plans whose earliest slot can be worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from opencdmo.engines.planning.promise import (
    NewBatches,
    Stage,
    changeover_count,
    plan_in_force,
    promise,
)
from opencdmo.engines.planning.result_reader import read_result
from opencdmo.engines.planning.schedule.checker import check_schedule_solution
from opencdmo.engines.planning.schedule.reader import parse_schedule


def _plan(first_start: int = 0) -> tuple[dict[str, Any], dict[str, Any]]:
    """One product X: USP [s, s+100), DSP [s+100, s+150), due at its end."""
    instance = {
        "format": "opencdmo-schedule/1",
        "id": "site",
        "horizon_h": 1000,
        "suites": [{"name": "USP-1"}, {"name": "DSP-1"}],
        "products": [{"name": "X"}],
        "batches": [
            {"id": "X1-usp", "product": "X", "options": [{"suite": "USP-1", "duration_h": 100}]},
            {
                "id": "X1-dsp",
                "product": "X",
                "options": [{"suite": "DSP-1", "duration_h": 50}],
                "upstream": "X1-usp",
                "max_hold_h": 24,
                "due_h": first_start + 150,
            },
        ],
    }
    result = {
        "schedule": {
            "batches": [
                {
                    "batch": "X1-usp",
                    "product": "X",
                    "suite": "USP-1",
                    "start_h": first_start,
                    "end_h": first_start + 100,
                },
                {
                    "batch": "X1-dsp",
                    "product": "X",
                    "suite": "DSP-1",
                    "start_h": first_start + 100,
                    "end_h": first_start + 150,
                },
            ]
        }
    }
    return instance, result


def _request(**overrides: Any) -> NewBatches:
    values: dict[str, Any] = {
        "key": "R1",
        "product": "NEW",
        "count": 1,
        "stages": (
            Stage("usp", (("USP-1", 50),)),
            Stage("dsp", (("DSP-1", 30),), min_gap_h=0, max_hold_h=24),
        ),
        "release_h": 0,
        "need_by_h": 400,
        "changeover_h": 10,
    }
    values.update(overrides)
    return NewBatches(**values)


def test_the_new_batch_waits_behind_a_batch_promised_for_earlier() -> None:
    """Going first would push X past its promised end (150), so NEW runs after X and its
    changeover: USP 110–160, DSP 160–190, the only earliest slot."""
    instance, result = _plan()
    answer = promise(instance, result, _request(), now_h=0, time_limit=5)
    assert answer.feasible
    assert answer.on_time
    assert [(s.stage, s.suite, s.start_h, s.end_h) for s in answer.stages] == [
        ("usp", "USP-1", 110, 160),
        ("dsp", "DSP-1", 160, 190),
    ]
    assert answer.moved == 0
    assert answer.extra_changeovers == 2


def test_a_batch_that_has_not_started_may_move_earlier_to_make_room() -> None:
    """X published at 200 (due 350) may move back to 0; NEW then fits after it, or before it
    if X still ends by 350: NEW USP 0–50, X USP 60–160, DSP 160–210 keeps X's promise."""
    instance, result = _plan(first_start=200)
    answer = promise(instance, result, _request(), now_h=0, time_limit=5)
    assert answer.stages[0].start_h == 0
    assert answer.stages[0].end_h == 50
    after = {b["batch"]: b for b in answer.result["schedule"]["batches"]}
    assert after["X1-dsp"]["end_h"] <= 350


def test_a_started_batch_is_frozen() -> None:
    instance, result = _plan(first_start=0)
    document = plan_in_force(instance, result, now_h=10)
    frozen = {b["id"]: b.get("frozen", False) for b in document["batches"]}
    assert frozen == {"X1-usp": True, "X1-dsp": False}
    answer = promise(instance, result, _request(), now_h=10, time_limit=5)
    after = {b["batch"]: b for b in answer.result["schedule"]["batches"]}
    assert (after["X1-usp"]["start_h"], after["X1-usp"]["suite"]) == (0, "USP-1")


def test_late_against_the_need_by_date_says_by_how_much() -> None:
    instance, result = _plan()
    answer = promise(instance, result, _request(need_by_h=170), now_h=0, time_limit=5)
    assert answer.feasible
    assert not answer.on_time
    assert answer.lateness_h == 20
    assert "20 h after the need-by date" in answer.reasons[0]


def test_every_answer_passes_the_independent_checker_from_its_documents(tmp_path: Path) -> None:
    """The two documents a sponsor's CDMO keeps are enough to re-check the answer."""
    instance, result = _plan()
    answer = promise(instance, result, _request(count=3), now_h=0, time_limit=5)
    problem = parse_schedule(answer.instance)
    (tmp_path / "result.json").write_text(json.dumps(answer.result))
    solution, objective = read_result(tmp_path / "result.json", problem)
    assert solution is not None
    assert check_schedule_solution(problem, solution, objective).ok  # type: ignore[arg-type]
    assert len(answer.batch_windows()) == 3


def test_a_suite_the_plan_lacks_is_refused() -> None:
    instance, result = _plan()
    bad = _request(stages=(Stage("usp", (("USP-9", 50),)),))
    with pytest.raises(ValueError, match="no suite 'USP-9'"):
        promise(instance, result, bad, now_h=0)


def test_changeovers_are_counted_per_suite_in_time_order() -> None:
    rows = [
        {"suite": "A", "product": "x", "start_h": 0, "end_h": 1},
        {"suite": "A", "product": "y", "start_h": 5, "end_h": 6},
        {"suite": "A", "product": "x", "start_h": 2, "end_h": 3},
        {"suite": "B", "product": "y", "start_h": 0, "end_h": 1},
    ]
    assert changeover_count(rows) == 1


def test_the_earliest_gap_is_the_answer_even_when_the_solver_has_no_time() -> None:
    """The request's chains are first placed into the plan's gaps, a checked start the
    solver returns when its time is up: the hand-worked slot after 0.05 s."""
    instance, result = _plan()
    answer = promise(instance, result, _request(), now_h=0, time_limit=0.05)
    assert answer.feasible
    assert [(s.start_h, s.end_h) for s in answer.stages] == [(110, 160), (160, 190)]
