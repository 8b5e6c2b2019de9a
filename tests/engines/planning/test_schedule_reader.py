"""The schedule reader rejects malformed instances with the file, the JSON path and the reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from opencdmo.engines.planning import InstanceError, read_schedule
from tests.engines.planning.conftest import DATA

TWO_SITES = DATA / "two_site_suites.json"


@pytest.mark.parametrize(
    ("edit", "path", "reason"),
    [
        (
            lambda d: d["batches"][0]["options"][0].update(suite="USP-X"),
            "batches[0].options[0].suite",
            "unknown suite 'USP-X'",
        ),
        (
            lambda d: d["batches"][6].update(upstream="Z9"),
            "batches[6].upstream",
            "unknown batch 'Z9'",
        ),
        (lambda d: d["batches"][0].update(upstream="A1-dsp"), "batches[0].upstream", "cycle"),
        (
            lambda d: d["batches"][5].update(deadline_h=10),
            "batches[5].deadline_h",
            "exceeds the deadline",
        ),
        (
            lambda d: d["batches"][0]["options"][0].update(duration_h=1.5),
            "batches[0].options[0].duration_h",
            "must be an integer",
        ),
        (lambda d: d["batches"][0].update(frozen=True), "batches[0].frozen", "needs 'previous'"),
        (
            lambda d: d["batches"][0].update(
                frozen=True, previous={"suite": "USP-X", "start_h": 0}
            ),
            "batches[0].previous.suite",
            "a frozen batch must stay on an eligible suite, not 'USP-X'",
        ),
        (lambda d: d["batches"][0].update(colour="red"), "batches[0].colour", "unknown key"),
        (
            lambda d: d["suites"][0]["downtimes"][0].update(end_h=100),
            "suites[0].downtimes[0].end_h",
            "must be > start_h",
        ),
        (
            lambda d: d["products"][0].update(campaign_max_batches=1),
            "products[0].campaign_max_batches",
            "must be ≥ campaign_min_batches",
        ),
        (
            lambda d: d["changeovers"][0].update(to_product="mAb-Z"),
            "changeovers[0].to_product",
            "unknown product 'mAb-Z'",
        ),
        (
            lambda d: d["changeovers"][1].update(from_product="mAb-A", to_product="mAb-B"),
            "changeovers[1]",
            "duplicate",
        ),
        (
            lambda d: d["objective"]["levels"][0][0].update(kind="profit"),
            "objective.levels[0][0].kind",
            "unknown objective 'profit'",
        ),
        (
            lambda d: d["batches"][1].update(max_hold_h=-1, upstream="A1-usp"),
            "batches[1].max_hold_h",
            "must be ≥ min_gap_h",
        ),
        (
            lambda d: d["batches"][0].update(release_h=1150),
            "batches[0].options[0].duration_h",
            "exceeds horizon_h",
        ),
    ],
)
def test_rejects_bad_field(tmp_path: Path, edit: Any, path: str, reason: str) -> None:
    """Each malformed field is named with its JSON path and a reason."""
    document = json.loads(TWO_SITES.read_text(encoding="utf-8"))
    edit(document)
    file = tmp_path / "schedule.json"
    file.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(InstanceError) as caught:
        read_schedule(file)
    message = str(caught.value)
    assert message.startswith(f"{file}: {path}: ")
    assert reason in message
