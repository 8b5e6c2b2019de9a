"""A scenario's solve repairs the published plan: only lateness the change adds counts,
except for a lot whose due date the scenario changed, which counts from its new due date."""

from __future__ import annotations

from typing import Any

from opencdmo.engines.planning.registry import solve
from opencdmo.engines.planning.schedule.checker import check_schedule_solution
from opencdmo.engines.planning.schedule.reader import parse_schedule
from opencdmo.scheduling import scenarios


def _plan() -> tuple[dict[str, Any], dict[str, Any]]:
    """One suite; lot L2 is published after L1 and 8 h late; L3 comes last."""
    instance = {
        "format": "opencdmo-schedule/1",
        "id": "repair",
        "horizon_h": 200,
        "suites": [{"name": "S"}],
        "products": [{"name": "P"}],
        "batches": [
            {
                "id": f"{lot}-production",
                "product": "P",
                "options": [{"suite": "S", "duration_h": 10}],
                "due_h": due,
            }
            for lot, due in (("L1", 100), ("L2", 12), ("L3", 60))
        ],
    }
    placed = [("L1", 0), ("L2", 10), ("L3", 25)]
    result = {
        "schedule": {
            "batches": [
                {"batch": f"{lot}-production", "suite": "S", "start_h": start, "end_h": start + 10}
                for lot, start in placed
            ]
        }
    }
    return instance, result


def _solved(document: dict[str, Any]) -> dict[str, int]:
    problem = parse_schedule(document, source="repair")
    outcome = solve(problem, time_limit=10)
    assert outcome.solution is not None
    assert check_schedule_solution(problem, outcome.solution, outcome.objective).ok
    return {b.batch.split("-")[0]: b.start_h for b in outcome.solution.batches}


def test_a_breakdown_moves_only_the_lot_it_hit() -> None:
    """L2 stays 8 h late as published; L3 alone moves past the breakdown."""
    instance, result = _plan()
    broken = scenarios.add_downtime(instance, "S", 25, 35, "breakdown")
    document = scenarios.for_reschedule(broken, result, 0, instance)
    assert document["objective"]["levels"][0] == [{"kind": "lateness_increase"}]
    assert _solved(document) == {"L1": 0, "L2": 10, "L3": 35}


def test_a_lot_whose_due_date_changed_counts_from_the_new_date() -> None:
    """Pulling L3's due date in to 20 drops its published place as the reference: it moves
    to the front, where the new date can be met, and the others make room."""
    instance, result = _plan()
    pulled = scenarios.set_due(instance, "L3", 20)
    document = scenarios.for_reschedule(pulled, result, 0, instance)
    by_id = {b["id"]: b for b in document["batches"]}
    assert "previous" not in by_id["L3-production"]
    assert by_id["L1-production"]["previous"] == {"suite": "S", "start_h": 0}
    placed = _solved(document)
    assert placed["L3"] + 10 <= 20


def test_a_reoptimisation_also_moves_what_was_late_before() -> None:
    """With the goal 'reoptimise' all lateness counts: L2 goes first and is on time."""
    instance, result = _plan()
    broken = scenarios.add_downtime(instance, "S", 25, 35, "breakdown")
    document = scenarios.for_reschedule(broken, result, 0, instance, scenarios.REOPTIMISE)
    assert document["objective"]["levels"][0] == [{"kind": "weighted_tardiness"}]
    assert _solved(document) == {"L2": 0, "L1": 10, "L3": 35}
