"""The campaign reader rejects malformed instances with the file, the JSON path and the reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from opencdmo.engines.planning import InstanceError, Stage, read_campaign
from tests.engines.planning.conftest import LAKHDAR_EXAMPLE1


def test_reads_example1() -> None:
    """Example 1: 6 periods of 60 d, 3 products, 2 USP and 2 DSP suites, 5 demand entries."""
    problem = read_campaign(LAKHDAR_EXAMPLE1)
    assert (problem.period_count, problem.period_length_d) == (6, 60.0)
    assert [s.stage for s in problem.suites] == [Stage.USP, Stage.USP, Stage.DSP, Stage.DSP]
    assert problem.demand_batches("p1", 4) == 6


@pytest.mark.parametrize(
    ("edit", "path", "reason"),
    [
        (
            lambda d: d["suites"][0]["products"].append("p9"),
            "suites[0].products[3]",
            "unknown product 'p9'",
        ),
        (
            lambda d: d["products"][0]["usp"].update(storage_capacity_batches=-1),
            "products[0].usp.storage_capacity_batches",
            "must be ≥ 0",
        ),
        (
            lambda d: d["products"][1]["dsp"].update(campaign_max_d=5),
            "products[1].dsp.campaign_max_d",
            "must be ≥ campaign_min_d",
        ),
        (
            lambda d: d["products"][2]["usp"].update(shelf_life_periods=1.5),
            "products[2].usp.shelf_life_periods",
            "must be an integer",
        ),
        (
            lambda d: d["products"][0].update(dsp_batches_per_usp_batch=0),
            "products[0].dsp_batches_per_usp_batch",
            "must be > 0",
        ),
        (lambda d: d["demand"][0].update(period=7), "demand[0].period", "must lie in 1 … 6"),
        (
            lambda d: d["demand"][1].update(product="p7"),
            "demand[1].product",
            "unknown product 'p7'",
        ),
        (
            lambda d: d["suites"][2].update(stage="fill"),
            "suites[2].stage",
            'must be "usp" or "dsp"',
        ),
        (lambda d: d["suites"][3].update(name="i1"), "suites[3].name", "duplicate name 'i1'"),
        (lambda d: d["periods"].update(count=0), "periods.count", "must be ≥ 1"),
        (lambda d: d["products"][0]["usp"].update(rate=1), "products[0].usp.rate", "unknown key"),
        (
            lambda d: d["conventions"].update(dsp_single_lead_time_per_suite_and_period="yes"),
            "conventions.dsp_single_lead_time_per_suite_and_period",
            "must be true or false",
        ),
        (lambda d: d["conventions"].update(backlog="none"), "conventions.backlog", "must be"),
        (
            lambda d: d.update(suites=[s for s in d["suites"] if s["stage"] == "dsp"]),
            "suites",
            "at least one USP suite",
        ),
    ],
)
def test_rejects_bad_field(
    lakhdar_document: dict[str, Any], tmp_path: Path, edit: Any, path: str, reason: str
) -> None:
    """Each malformed field is named with its JSON path and a reason."""
    edit(lakhdar_document)
    file = tmp_path / "campaign.json"
    file.write_text(json.dumps(lakhdar_document), encoding="utf-8")
    with pytest.raises(InstanceError) as caught:
        read_campaign(file)
    message = str(caught.value)
    assert message.startswith(f"{file}: {path}: ")
    assert reason in message
