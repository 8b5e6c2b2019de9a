"""An infeasible suite schedule says why: which batches, which rule."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from opencdmo.engines.planning import SolveStatus, parse_schedule, read_schedule, solve
from opencdmo.engines.planning.schedule.diagnosis import explain_infeasibility, precheck
from tests.engines.planning.conftest import DATA
from tests.engines.planning.test_schedule_bound import _random_instance

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "planning"


def _instance(batches: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "format": "opencdmo-schedule/1",
        "id": "diagnosis",
        "horizon_h": 400,
        "suites": [{"name": "USP-1"}, {"name": "DSP-1"}],
        "products": [{"name": "X"}, {"name": "Y"}],
        "batches": batches,
    }
    document.update(extra)
    return document


def _usp(batch_id: str, duration_h: int, **fields: Any) -> dict[str, Any]:
    return {
        "id": batch_id,
        "product": fields.pop("product", "X"),
        "options": [{"suite": "USP-1", "duration_h": duration_h}],
        **fields,
    }


def _dsp(batch_id: str, duration_h: int, upstream: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": batch_id,
        "product": fields.pop("product", "X"),
        "options": [{"suite": "DSP-1", "duration_h": duration_h}],
        "upstream": upstream,
        **fields,
    }


def _solved_infeasible(document: dict[str, Any]) -> list[tuple[str, tuple[str, ...], str]]:
    result = solve(parse_schedule(document), time_limit=20)
    assert result.status is SolveStatus.INFEASIBLE
    assert result.document()["infeasibility"]
    return [(c.rule, c.batches, c.reason) for c in result.conflicts]


def test_a_chain_past_its_deadline_names_the_batch_and_the_arithmetic() -> None:
    """B3 cannot start before its upstream ends at 120 h; with 96 h it misses 200 h."""
    document = _instance(
        [_usp("B1", 120), _dsp("B3", 96, "B1", deadline_h=200)],
    )
    [(rule, batches, reason)] = _solved_infeasible(document)
    assert rule == "deadline"
    assert batches == ("B3",)
    assert "batch B3 of product X: earliest start 120 h" in reason
    assert "+ duration 96 h exceeds its deadline 200 h" in reason


def test_a_chain_conflict_is_reported_once_with_the_gap_that_causes_it() -> None:
    """B1 released at 50 h runs 100 h, B2 follows 10 h later for 60 h and misses 210 h: one
    conflict, on B2, naming the upstream's end and the gap (not a second one on B1)."""
    document = _instance(
        [_usp("B1", 100, release_h=50), _dsp("B2", 60, "B1", min_gap_h=10, deadline_h=210)],
    )
    [(rule, batches, reason)] = _solved_infeasible(document)
    assert (rule, batches) == ("deadline", ("B2",))
    assert "earliest start 160 h (upstream B1 ends at 150 h at the earliest + gap 10 h)" in reason


def test_downtime_covering_the_whole_window_is_named() -> None:
    """A 48 h batch due by 100 h on a suite down from 20 h to 80 h has no room."""
    document = _instance(
        [_usp("B1", 48, deadline_h=100)],
        suites=[{"name": "USP-1", "downtimes": [{"start_h": 20, "end_h": 80}]}, {"name": "DSP-1"}],
    )
    [(rule, batches, reason)] = _solved_infeasible(document)
    assert (rule, batches) == ("downtime", ("B1",))
    assert "downtime covers the whole window [0, 100) h" in reason
    assert "USP-1 is down 20-80 h" in reason


def test_an_unreachable_coupling_window_is_named() -> None:
    """B2 is released at 300 h, its upstream ends by 200 h and may wait only 12 h."""
    document = _instance(
        [_usp("B1", 72, deadline_h=200), _dsp("B2", 24, "B1", release_h=300, max_hold_h=12)],
    )
    [(rule, batches, reason)] = _solved_infeasible(document)
    assert (rule, batches) == ("coupling", ("B1", "B2"))
    assert "coupling window of 12 h cannot be met" in reason


def test_a_campaign_too_long_for_the_batches_of_a_suite_is_named() -> None:
    """Campaigns of three, but only two X batches may use USP-1."""
    document = _instance(
        [_usp("X1", 24), _usp("X2", 24)],
        products=[{"name": "X", "campaign_min_batches": 3}, {"name": "Y"}],
    )
    conflicts = _solved_infeasible(document)
    assert [(rule, batches) for rule, batches, _ in conflicts] == [
        ("campaign", ("X1",)),
        ("campaign", ("X2",)),
    ]
    assert "only 2 batches of X on USP-1" in conflicts[0][2]


def test_overlapping_frozen_batches_are_named() -> None:
    """Two batches frozen on USP-1 at 0 h and 10 h overlap."""
    document = _instance(
        [
            _usp("B1", 24, previous={"suite": "USP-1", "start_h": 0}, frozen=True),
            _usp("B2", 24, previous={"suite": "USP-1", "start_h": 10}, frozen=True),
        ],
    )
    [(rule, batches, reason)] = _solved_infeasible(document)
    assert (rule, batches) == ("frozen", ("B1", "B2"))
    assert "overlap on USP-1" in reason


def test_a_conflict_beyond_the_prechecks_is_narrowed_to_the_batches_that_cause_it() -> None:
    """Each of two 40 h fills meets its 84 h deadline alone, not both with an 8 h cleaning;
    the third batch, released later, is not part of the conflict."""
    problem = read_schedule(EXAMPLES / "crowded_fill_line.json")
    assert precheck(problem) == []
    conflicts = explain_infeasibility(problem)
    by_rule = {c.rule: c for c in conflicts}
    assert by_rule["deadline"].batches == ("A-fill", "B-fill")
    assert "cannot all be met together" in by_rule["deadline"].reason
    assert "mAb-A -> mAb-B (8 h)" in by_rule["changeover"].reason
    assert "release" not in by_rule


def test_the_infeasible_example_of_the_guide_explains_its_campaigns() -> None:
    """The guide's infeasible example: one mAb-A batch per suite, campaigns of two."""
    problem = read_schedule(EXAMPLES / "two_suites_infeasible.json")
    conflicts = precheck(problem)
    assert [c.batches for c in conflicts] == [("A1-usp",), ("A1-dsp",)]
    assert all(c.rule == "campaign" for c in conflicts)


@pytest.mark.parametrize(
    "path",
    [
        DATA / "two_site_suites.json",
        EXAMPLES / "two_suites.json",
    ],
)
def test_the_prechecks_pass_every_feasible_instance(path: Path) -> None:
    """No false alarm: feasible instances pass every check."""
    assert precheck(read_schedule(path)) == []


def test_the_prechecks_pass_random_feasible_instances() -> None:
    """No false alarm on the random instances of the bound tests, all feasible."""
    rng = random.Random(11)
    for n in range(16):
        problem = parse_schedule(_random_instance(rng, n))
        assert precheck(problem) == [], n


def test_the_result_document_lists_the_conflicts() -> None:
    """``infeasibility`` holds rule, batches and reason of each conflict."""
    document = json.loads((EXAMPLES / "two_suites_infeasible.json").read_text(encoding="utf-8"))
    result = solve(parse_schedule(document), time_limit=10)
    entry = result.document()["infeasibility"][0]
    assert entry["rule"] == "campaign"
    assert entry["batches"] == ["A1-usp"]
    assert entry["reason"].startswith("batch A1-usp of product mAb-A")
