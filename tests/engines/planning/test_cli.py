"""``opencdmo plan`` prints one result document on stdout and reports bad input on stderr."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from opencdmo.engines.planning.cli import _parser, main
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


def test_schedule_command_reschedules_a_plan_in_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Solve, then reschedule that result with everything before 150 h frozen: the frozen
    batches keep their places, every batch carries its published one, and the check passes."""
    instance = str(DATA / "two_site_suites.json")
    assert main(["schedule", instance, "--time-limit", "10"]) == 0
    first = json.loads(capsys.readouterr()[0])
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(first), encoding="utf-8")
    argv = ["schedule", instance, "--plan-in-force", str(plan), "--freeze-before", "150"]
    assert main([*argv, "--time-limit", "10"]) == 0
    out, err = capsys.readouterr()
    again = json.loads(out)
    assert "independent check passed" in err
    before = {b["batch"]: b for b in first["schedule"]["batches"]}
    after = {b["batch"]: b for b in again["schedule"]["batches"]}
    frozen = [name for name, item in before.items() if item["start_h"] < 150]
    assert frozen
    for name in frozen:
        assert (after[name]["suite"], after[name]["start_h"]) == (
            before[name]["suite"],
            before[name]["start_h"],
        )
    assert again["objective"] <= first["objective"] + 1e-9


def test_a_plan_in_force_that_cannot_be_frozen_is_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A published place on a suite the batch may not use cannot be frozen: exit 2, with the
    instance, the field and the plan named; and --freeze-before alone is a usage error."""
    instance = str(DATA / "two_site_suites.json")
    assert main(["schedule", instance, "--time-limit", "5"]) == 0
    first = json.loads(capsys.readouterr()[0])
    moved = first["schedule"]["batches"][0]
    moved["suite"] = next(
        b["suite"] for b in first["schedule"]["batches"] if b["suite"][:3] != moved["suite"][:3]
    )
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(first), encoding="utf-8")
    argv = ["schedule", instance, "--plan-in-force", str(plan), "--freeze-before", "100000"]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert instance in err
    assert f"with the plan in force of {plan}" in err
    assert "eligible suite" in err
    with pytest.raises(SystemExit):
        main(["schedule", instance, "--freeze-before", "10"])


def test_a_plan_with_a_malformed_start_is_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A start that is not a whole number is rejected with exit 2, naming its JSON path."""
    instance = str(DATA / "two_site_suites.json")
    assert main(["schedule", instance, "--time-limit", "5"]) == 0
    first = json.loads(capsys.readouterr()[0])
    first["schedule"]["batches"][1]["start_h"] = "abc"
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(first), encoding="utf-8")
    assert main(["schedule", instance, "--plan-in-force", str(plan)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "schedule.batches[1].start_h: must be a number" in err


EXAMPLES = REPOSITORY / "examples" / "planning"


def test_table_format_summarises_the_result_for_people(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``--format table``: status, objective with unit and sense, bound, gap, check, and one
    row per batch with its suite, start and end."""
    assert main(["stn", str(KONDILI), "--format", "table"]) == 0
    out, _ = capsys.readouterr()
    lines = out.splitlines()
    assert "status     optimal" in lines
    assert "objective  2744.375 (profit, money units, maximised)" in lines
    assert "bound      2744.375" in lines
    assert "gap        0.00 %" in lines
    assert "check      passed" in lines
    assert "unit       start (h)  end (h)  what" in lines
    assert any(line.startswith("Heater") and "Heating" in line for line in lines)


def test_table_format_says_why_an_instance_is_infeasible(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The table and stderr name the rule and batches of every conflict."""
    assert (
        main(["schedule", str(EXAMPLES / "two_suites_infeasible.json"), "--format", "table"]) == 0
    )
    out, err = capsys.readouterr()
    assert "status     infeasible" in out
    assert "why        campaign: batch A1-usp of product mAb-A" in out
    assert "infeasible because batch A1-dsp of product mAb-A" in err


def test_the_document_says_what_the_objective_measures(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``objective_meaning`` gives name, unit and sense of the suite schedule's first level."""
    assert main(["schedule", str(EXAMPLES / "two_suites.json"), "--time-limit", "20"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["objective_meaning"] == {
        "name": "level 1 of 2: weighted lateness",
        "unit": "weight-hours",
        "sense": "minimise",
    }


def test_every_option_has_help_text() -> None:
    """Each subcommand's every argument and option explains itself in ``--help``."""
    parser = _parser()
    subcommands = next(
        action for action in parser._actions if isinstance(action, argparse._SubParsersAction)
    )
    for name, sub in subcommands.choices.items():
        for action in sub._actions:
            assert action.help, f"{name}: {action.dest} has no help"
