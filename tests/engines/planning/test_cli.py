"""``opencdmo plan`` prints one result document on stdout and reports bad input on stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from opencdmo.engines.planning.cli import main
from tests.engines.planning.conftest import DATA, KONDILI, REPOSITORY


def test_stn_command_prints_the_result_document(capsys: pytest.CaptureFixture[str]) -> None:
    """The STN subcommand prints an optimal opencdmo-result/1 document and a passed check."""
    assert main(["stn", str(KONDILI), "--time-limit", "60", "--threads", "1"]) == 0
    out, err = capsys.readouterr()
    document = json.loads(out)
    assert document["status"] == "optimal"
    assert document["objective"] == pytest.approx(2744.375)
    assert "independent check passed" in err


def test_rejected_instance_exits_2_and_names_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A negative capacity is rejected before solving, with file, path and reason on stderr."""
    document = json.loads((DATA / "single_task_cleaning.json").read_text(encoding="utf-8"))
    document["states"][1]["capacity_kg"] = -1
    file = tmp_path / "bad.json"
    file.write_text(json.dumps(document), encoding="utf-8")
    assert main(["stn", str(file)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert f"{file}: states[1].capacity_kg: must be ≥ 0" in err


def test_wrong_format_for_subcommand_is_rejected(capsys: pytest.CaptureFixture[str]) -> None:
    """Feeding an STN file to the campaign subcommand names the format field."""
    assert main(["campaign", str(KONDILI)]) == 2
    assert "format: must be 'opencdmo-campaign/1'" in capsys.readouterr().err


def test_opencdmo_command_keeps_stdout_clean() -> None:
    """Through the top-level command nothing but the JSON document reaches stdout."""
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "opencdmo.cli",
            "plan",
            "stn",
            str(DATA / "single_task_cleaning.json"),
        ],
        capture_output=True,
        text=True,
        cwd=REPOSITORY,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["objective"] == pytest.approx(110.0)


def test_campaign_lateness_is_explained_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--explain-lateness names capacity for demand beyond what the suites can make."""
    from tests.engines.planning.test_campaign_solver import _one_period_document

    document = _one_period_document()
    document["demand"][0]["batches"] = 8
    file = tmp_path / "late.json"
    file.write_text(json.dumps(document), encoding="utf-8")
    assert main(["campaign", str(file), "--explain-lateness", "--time-limit", "20"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["objective_breakdown"]["backlog_cost"] == pytest.approx(40.0)
    assert "late: mab has 2 batch(es) open at the end of period 1; cause: capacity" in err


def test_campaign_command_plans_a_site_network(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file with sites and a one-period route: shipments and per-site crude in the result,
    and the plan passes the independent check."""
    from tests.engines.planning.test_campaign_extensions import _two_site_document

    file = tmp_path / "two_sites.json"
    file.write_text(json.dumps(_two_site_document(1)), encoding="utf-8")
    assert main(["campaign", str(file), "--time-limit", "60"]) == 0
    out, err = capsys.readouterr()
    document = json.loads(out)
    assert document["status"] == "optimal"
    assert document["objective"] < 490.0
    shipments = document["schedule"]["crude_shipments"]
    assert shipments
    assert {(s["from_site"], s["to_site"]) for s in shipments} == {("Basel", "Singapore")}
    assert {row["site"] for row in document["schedule"]["site_crude"]} == {"Basel", "Singapore"}
    assert "independent check passed" in err
