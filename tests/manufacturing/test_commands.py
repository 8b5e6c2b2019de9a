"""``opencdmo ingest`` and ``opencdmo export`` end to end, as a user runs them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django_scopes import scopes_disabled

from opencdmo.analytics.services import set_data_sharing
from opencdmo.manufacturing.models import Batch, ProcessDataFile

WIDE = "time,ph,do_pct\nh,pH,% air sat\n0,7.0,80\n1,7.1,79\n"


def test_ingest_then_export_as_the_sponsor(
    opencdmo_cli: Any, plant: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CDMO's MSAT ingests; the project's sponsor exports the same values once the CDMO
    shares the raw data (refused before, nothing written)."""
    run = tmp_path / "run.csv"
    run.write_text(WIDE)
    assert (
        opencdmo_cli(["ingest", str(run), "--as", "alpha-bio-cdmo_msat", "--batch", "A-101"]) == 0
    )
    assert capsys.readouterr().out == (
        "run.csv: 4 new values for batch A-101 (4 read; process data version 1).\n"
    )
    assert (
        opencdmo_cli(["ingest", str(run), "--as", "alpha-bio-cdmo_msat", "--batch", "A-101"]) == 0
    )
    assert "0 new values for batch A-101" in capsys.readouterr().out
    out = tmp_path / "A-101.csv"
    export = ["export", "A-101", "--as", "sponsor-one-sponsor_viewer", "--output", str(out)]
    assert opencdmo_cli(export) == 1
    assert "shares this project's monitoring verdicts, not its raw" in capsys.readouterr().err
    assert not out.exists()
    msat = plant.user("alpha-bio", "cdmo_msat")
    with scopes_disabled():
        project = Batch.objects.get(lot="A-101").project
    set_data_sharing(msat, project, share=True, reason="Raw data in the quality agreement")
    status = opencdmo_cli(export)
    assert status == 0
    assert out.read_text().splitlines() == [
        "time,variable,value,unit",
        "0.0,do_pct,80.0,% air sat",
        "0.0,ph,7.0,pH",
        "1.0,do_pct,79.0,% air sat",
        "1.0,ph,7.1,pH",
    ]


def test_a_bad_file_exits_one_naming_line_and_column_and_stores_nothing(
    opencdmo_cli: Any, plant: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("time,ph\n0,7.0\n1,acid\n")
    status = opencdmo_cli(["ingest", str(bad), "--as", "alpha-bio-cdmo_msat", "--batch", "A-101"])
    err = capsys.readouterr().err
    assert status == 1
    assert "bad.csv, line 3, column 'ph': 'acid' is not a number" in err
    assert "Nothing ingested from bad.csv." in err
    with scopes_disabled():
        assert not ProcessDataFile.objects.exists()


def test_new_needs_a_product_and_a_site(
    opencdmo_cli: Any, plant: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run.csv"
    run.write_text(WIDE)
    argv = ["ingest", str(run), "--as", "alpha-bio-cdmo_msat", "--batch", "N-1", "--new"]
    assert opencdmo_cli(argv) == 1
    assert "--new needs --product NAME and --site CODE." in capsys.readouterr().err
    assert opencdmo_cli([*argv, "--product", "sponsor-one mAb", "--site", "main"]) == 0
    with scopes_disabled():
        assert Batch.objects.get(lot="N-1").project == plant.extra["project/alpha-bio"]


def test_export_of_another_tenants_batch_is_refused_like_a_missing_one(
    opencdmo_cli: Any, plant: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert opencdmo_cli(["export", "A-101", "--as", "sponsor-two-sponsor_viewer"]) == 1
    assert "No batch 'A-101' that sponsor-two-sponsor_viewer may read." in capsys.readouterr().err


def test_map_tag_then_ingest_a_historian_file(
    opencdmo_cli: Any, plant: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The mapped tag lands as the variable; another organisation's site is not found."""
    argv = ["map-tag", "main", "TIC-101.PV", "temperature_c", "--unit", "K"]
    assert opencdmo_cli([*argv, "--as", "alpha-bio-cdmo_msat"]) == 0
    assert capsys.readouterr().out == "At main, tag TIC-101.PV (K) lands as temperature_c.\n"
    historian = tmp_path / "historian.csv"
    historian.write_text("time,TIC-101.PV\n0,310.15\n")
    assert (
        opencdmo_cli(["ingest", str(historian), "--as", "alpha-bio-cdmo_msat", "--batch", "A-101"])
        == 0
    )
    assert opencdmo_cli(["export", "A-101", "--as", "alpha-bio-cdmo_msat"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "0.0,temperature_c,310.15,K"
    assert opencdmo_cli([*argv, "--as", "alpha-bio-cdmo_planner"]) == 1
    assert "may not change this" in capsys.readouterr().err
