"""Lower bounds without a solver hold in every schedule and count what is unavoidable."""

from __future__ import annotations

import pytest

from opencdmo.engines.planning import parse_schedule
from opencdmo.engines.planning.schedule_bound import earliest_ends, first_level_bound
from tests.engines.planning.test_schedule_solver import _one_suite


def test_unavoidable_tardiness_follows_the_upstream_chain_and_downtimes() -> None:
    """USP 0–10 h, DSP after a 2 h gap but a downtime until 20 h: ends at 30 h, 20 h late."""
    doc = _one_suite(["P"], changeover_h=0)
    doc["suites"].append({"name": "D", "downtimes": [{"start_h": 12, "end_h": 20}]})
    doc["batches"].append(
        {
            "id": "d",
            "product": "P",
            "options": [{"suite": "D", "duration_h": 10}],
            "upstream": "b0",
            "min_gap_h": 2,
            "due_h": 10,
            "tardiness_weight": 2,
        }
    )
    doc["objective"] = {"levels": [[{"kind": "weighted_tardiness"}]]}
    problem = parse_schedule(doc)
    assert earliest_ends(problem)["d"] == 30
    assert first_level_bound(problem) == pytest.approx(40.0)


def test_changeover_bound_counts_campaigns_beyond_the_suites() -> None:
    """Campaigns of at most 2: three P and two Q batches on one suite switch at least twice."""
    doc = _one_suite(["P", "P", "P", "Q", "Q"], changeover_h=1)
    doc["products"] = [
        {"name": "P", "campaign_max_batches": 2},
        {"name": "Q", "campaign_max_batches": 2},
    ]
    doc["objective"] = {"levels": [[{"kind": "changeover_cost", "weight": 3}]]}
    assert first_level_bound(parse_schedule(doc)) == pytest.approx(3 * 2 * 1.0)
