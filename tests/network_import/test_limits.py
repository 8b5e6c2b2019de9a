"""Limits of an import: problems capped and counted, sizes refused before parsing, formula
cells refused, and formula-like text kept as text that exports escape."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_scopes import scopes_disabled

from opencdmo.network.import_jobs import queue_import
from opencdmo.network.importer import import_file
from opencdmo.network.models import ImportJob, Site
from opencdmo.network.tasks import run_import_job
from tests.network_import.conftest import SITE_HEADER

pytestmark = pytest.mark.django_db

LYON = ["alpha-bio", "lyon", "Alpha Lyon", "FR", "europe", "Lyon", 45.764, 4.8357]


def _admin(world: Any) -> Any:
    return world.user("alpha-bio", "cdmo_admin")


def _bad_sites(rows: int) -> bytes:
    """Sites whose region and latitude are both wrong: two problems a row."""
    lines = [",".join(SITE_HEADER)]
    lines += [f"alpha-bio,s{i},Site {i},FR,Mars,Lyon,north,4.8" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def test_a_100000_row_bad_file_keeps_200_problems_and_a_small_job(
    world: Any, settings: Any, tmp_path: Path, db_counts: Callable[[], dict[str, int]]
) -> None:
    """Its header and 99,999 rows of two problems each: the first 200 in full, the rest
    counted by kind, under 100 kB stored."""
    settings.DATA_DIR = tmp_path
    before = db_counts()
    upload = SimpleUploadedFile("sites.csv", _bad_sites(99_999))
    job = queue_import(actor=_admin(world), upload=upload)
    assert run_import_job.call(job.pk) == ImportJob.Status.REJECTED
    with scopes_disabled():
        job = ImportJob.objects.get(pk=job.pk)
    assert job.summary == "Nothing imported from sites.csv: 199,998 problems."
    assert len(job.problems) == 201
    assert job.problems[0].startswith("sites.csv, line 2, column 'region': 'Mars' is not one of")
    assert job.problems[199].startswith("sites.csv, line 101, column 'latitude': 'north'")
    assert job.problems[200] == (
        "and 199,798 more: 99,899 × 'region: … is not one of: north_america, latin_america, "
        "europe, midd…', 99,899 × 'latitude: … is not a number'"
    )
    assert len(json.dumps(job.problems).encode()) < 100_000
    assert db_counts() == before


def test_the_cap_shows_in_the_command_and_on_the_job_page(
    world: Any,
    settings: Any,
    tmp_path: Path,
    opencdmo_cli: Any,
    client_for: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The command lists the kept problems and the 'and … more' line; so does the page."""
    monkeypatch.setattr("opencdmo.network.importer.MAX_PROBLEMS", 3)
    path = tmp_path / "sites.csv"
    path.write_bytes(_bad_sites(5))
    assert opencdmo_cli(["import", str(path), "--as", "alpha-bio-cdmo_admin"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[:3] == [
        "sites.csv, line 2, column 'region': 'Mars' is not one of: north_america, "
        "latin_america, europe, middle_east_africa, asia, oceania",
        "sites.csv, line 2, column 'latitude': 'north' is not a number (write e.g. 2000 or "
        "51.5, with a dot and no thousands separator)",
        "sites.csv, line 3, column 'region': 'Mars' is not one of: north_america, "
        "latin_america, europe, middle_east_africa, asia, oceania",
    ]
    assert err[3].startswith("and 7 more: 4 × 'latitude: … is not a number', 3 × 'region: ")
    assert "Nothing imported from sites.csv: 10 problems." in err[4]
    settings.DATA_DIR = tmp_path
    job = queue_import(actor=_admin(world), upload=SimpleUploadedFile("sites.csv", _bad_sites(5)))
    run_import_job.call(job.pk)
    page = client_for(_admin(world)).get(f"/sites/import/{job.pk}/").content.decode()
    assert "and 7 more: 4 × " in page
    assert "The first 3 in full" in page


def test_a_sheet_that_unpacks_past_the_limit_is_refused_before_it_is_parsed(
    world: Any,
    write_xlsx: Callable[..., Path],
    db_counts: Callable[[], dict[str, int]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A zip bomb: 2 MB of sheet XML in a few kB; openpyxl never sees it."""
    path = write_xlsx("plant.xlsx", {"sites": [SITE_HEADER, LYON]})
    source = zipfile.ZipFile(path)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<sheetData>", b"<sheetData>" + b" " * 2_000_000)
            target.writestr(item.filename, data)
    assert len(bomb.getvalue()) < 50_000
    monkeypatch.setattr("opencdmo.network.importer.MAX_BYTES", 1_000_000)

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the workbook was parsed")

    monkeypatch.setattr("openpyxl.load_workbook", never)
    before = db_counts()
    report = import_file(bomb.getvalue(), "plant.xlsx", actor=_admin(world))
    assert [(p.line, p.column) for p in report.problems] == [(None, None)]
    reason = report.problems[0].reason
    assert reason.startswith("xl/worksheets/sheet1.xml unpacks to 2,0")
    assert reason.endswith(" bytes; the limit is 1,000,000")
    assert db_counts() == before


def test_a_csv_over_the_row_limit_names_the_limit(
    world: Any, monkeypatch: pytest.MonkeyPatch, db_counts: Callable[[], dict[str, int]]
) -> None:
    """Reading stops at the limit, which the message names; the good rows before it wait."""
    monkeypatch.setattr("opencdmo.network.importer.MAX_ROWS", 1000)
    lines = [",".join(SITE_HEADER)]
    lines += [f"alpha-bio,s{i},Site {i},FR,europe,Lyon,45.7,4.8" for i in range(1500)]
    before = db_counts()
    report = import_file("\n".join(lines).encode(), "sites.csv", actor=_admin(world))
    assert [str(p) for p in report.problems] == [
        "sites.csv, line 1001: more than 1,000 rows; the limit is 1,000; nothing after it was read"
    ]
    assert db_counts() == before


def test_a_formula_cell_is_refused_with_its_sheet_row_and_column(
    world: Any, write_xlsx: Callable[..., Path], db_counts: Callable[[], dict[str, int]]
) -> None:
    """Formulas, whatever they compute, are not imported: the user pastes values."""
    before = db_counts()
    path = write_xlsx(
        "plant.xlsx",
        {
            "Sites": [
                [*SITE_HEADER, "description"],
                [*LYON, '=HYPERLINK("https://example.org", "Click")'],
                ["alpha-bio", "nice", "Alpha Nice", "FR", "europe", "Nice", "=40+3.7", 7.26],
            ]
        },
    )
    report = import_file(path, actor=_admin(world))
    assert [str(p) for p in report.problems] == [
        "plant.xlsx [sheet Sites], row 2, column 'description': the cell holds a formula; "
        "paste values (Paste Special, Values) and import the file again "
        '(=HYPERLINK("https://example.org", "Click"))',
        "plant.xlsx [sheet Sites], row 3, column 'latitude': the cell holds a formula; "
        "paste values (Paste Special, Values) and import the file again (=40+3.7)",
    ]
    assert db_counts() == before


def test_formula_like_csv_text_is_stored_as_text_and_escaped_in_the_audit_export(
    world: Any, write_csv: Callable[..., Path], client_for: Any
) -> None:
    """'=HYPERLINK(…)' from a CSV is a name like any other; the CSV export defuses it."""
    name = '=HYPERLINK("https://example.org","Click")'
    path = write_csv("sites.csv", [SITE_HEADER, ["alpha-bio", "eq", name, *LYON[3:]]])
    report = import_file(path, actor=_admin(world))
    assert report.ok, report.problems
    assert Site.objects.get(code="eq").name == name
    export = client_for(world.user("alpha-bio", "cdmo_qa")).get("/audit/export.csv")
    text = b"".join(export.streaming_content).decode()
    assert f"'{name}".replace('"', '""') in text
    assert f",{name}".replace('"', '""') not in text
