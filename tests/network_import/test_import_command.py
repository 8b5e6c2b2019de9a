"""``opencdmo import``: exit status, output and help as a user sees them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from opencdmo.network.models import Site
from tests.network_import.conftest import SITE_HEADER

pytestmark = pytest.mark.django_db

LYON = ["alpha-bio", "lyon", "Alpha Lyon", "FR", "europe", "Lyon", 45.764, 4.8357]


def test_import_succeeds_with_status_zero_and_a_summary(
    opencdmo_cli: Any,
    world: Any,
    write_csv: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A good file is imported and the summary says what was created."""
    path = write_csv("sites.csv", [SITE_HEADER, LYON])
    status = opencdmo_cli(["import", str(path), "--as", "alpha-bio-cdmo_admin"])
    out = capsys.readouterr().out
    assert status == 0
    assert "Imported 1 site from sites.csv." in out
    assert Site.objects.filter(code="lyon").exists()


def test_rejected_file_exits_one_and_lists_every_problem(
    opencdmo_cli: Any,
    world: Any,
    write_csv: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Problems go to stderr, one per line with line and column; nothing is written."""
    bad = ["alpha-bio", "nice", "Alpha Nice", "FR", "Mars", "Nice", "north", 7.26]
    path = write_csv("sites.csv", [SITE_HEADER, LYON, bad])
    status = opencdmo_cli(["import", str(path), "--kind", "sites", "--as", "alpha-bio-cdmo_admin"])
    err = capsys.readouterr().err
    assert status == 1
    assert "sites.csv, line 3, column 'region': 'Mars' is not one of" in err
    assert "sites.csv, line 3, column 'latitude': 'north' is not a number" in err
    assert "Nothing imported from sites.csv: 2 problems." in err
    assert not Site.objects.filter(code="lyon").exists()


def test_dry_run_and_refusals(
    opencdmo_cli: Any,
    world: Any,
    write_csv: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A dry run writes nothing; unknown users, missing files and weak roles exit non-zero."""
    path = write_csv("sites.csv", [SITE_HEADER, LYON])
    assert opencdmo_cli(["import", str(path), "--as", "alpha-bio-cdmo_admin", "--dry-run"]) == 0
    assert "would be imported (dry run, nothing written)" in capsys.readouterr().out
    assert not Site.objects.filter(code="lyon").exists()
    assert opencdmo_cli(["import", str(path), "--as", "nobody"]) == 1
    assert "No user 'nobody'." in capsys.readouterr().err
    assert opencdmo_cli(["import", str(path.with_name("missing.csv")), "--as", "nobody"]) == 1
    assert "No such file" in capsys.readouterr().err
    assert opencdmo_cli(["import", str(path), "--as", "alpha-bio-cdmo_planner"]) == 1
    assert "may not import" in capsys.readouterr().err


def test_help_lists_the_columns_of_every_kind(
    opencdmo_cli: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """--help documents each kind's columns and which are required."""
    assert opencdmo_cli(["import", "--help"]) == 0
    out = capsys.readouterr().out
    assert "* owner" in out
    assert "* site_code" in out
    assert "working_volume_l" in out
    assert "modalities" in out
    assert "--dry-run" in out
