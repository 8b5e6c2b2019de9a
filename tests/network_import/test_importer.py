"""Importing sites, suites and equipment: good files are written, bad ones change nothing."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django_scopes import scopes_disabled

from opencdmo.audit.models import AuditEntry
from opencdmo.network.importer import ImportReport, import_file
from opencdmo.network.models import Equipment, Site, SitePrivateProfile, Suite
from tests.network_import.conftest import EQUIPMENT_HEADER, SITE_HEADER, SUITE_HEADER

pytestmark = pytest.mark.django_db

LYON = ["alpha-bio", "lyon", "Alpha Lyon", "FR", "europe", "Lyon", 45.764, 4.8357]
OSAKA = ["alpha-bio", "osaka", "Alpha Osaka", "jp", "Asia", "Osaka", "34.6937", "135.5023"]


def _where(report: ImportReport) -> set[tuple[int | None, str | None]]:
    return {(p.line, p.column) for p in report.problems}


def _admin(world: Any) -> Any:
    return world.user("alpha-bio", "cdmo_admin")


def test_good_csv_creates_sites_each_audited_with_the_file_name(
    world: Any, write_csv: Callable[..., Path]
) -> None:
    """Every row becomes a site through the services, with one audit entry naming the file."""
    path = write_csv("sites.csv", [SITE_HEADER, LYON, OSAKA])
    report = import_file(path, actor=_admin(world))
    assert report.ok, report.problems
    assert report.created == {"sites": 2}
    assert report.summary() == "Imported 2 sites from sites.csv."
    osaka = Site.objects.get(owner=world.orgs["alpha-bio"], code="osaka")
    assert (osaka.country, osaka.region, osaka.latitude) == ("JP", "asia", 34.6937)
    with scopes_disabled():
        entries = AuditEntry.objects.filter(action="opencdmo.site.created")
        assert entries.count() == 2
        assert {e.reason for e in entries} == {"Imported from sites.csv"}
        assert {e.actor_id for e in entries} == {_admin(world).pk}


def test_good_workbook_imports_sites_suites_and_equipment_in_one_go(
    world: Any, write_xlsx: Callable[..., Path], db_counts: Callable[[], dict[str, int]]
) -> None:
    """Sheets named by kind are read in order; later sheets may refer to earlier ones."""
    before = db_counts()
    path = write_xlsx(
        "plant.xlsx",
        {
            "Equipment": [
                EQUIPMENT_HEADER,
                ["alpha-bio", "lyon", "USP A", "SUB-01", "bioreactor_su", 2000, None, "Acme"],
                ["alpha-bio", "lyon", "USP A", 101, "Single-use bioreactor", "500", None, ""],
                ["alpha-bio", "lyon", "Fill 1", "FL-1", "fill_line", None, 24000, ""],
                ["alpha-bio", "main", "USP 1", "BR-2", "bioreactor_ss", 15000, None, ""],
            ],
            "Sites": [
                [*SITE_HEADER, "established_year", "indicative_batch_price_usd"],
                [*LYON, 2011, 1_500_000],
            ],
            "Suites": [
                SUITE_HEADER,
                ["alpha-bio", "lyon", "USP A", "upstream", "C", "", "mab; Bispecific antibody"],
                ["alpha-bio", "lyon", "Fill 1", "fill_finish", "A", "qualification", ""],
            ],
        },
    )
    report = import_file(path, actor=_admin(world))
    assert report.ok, report.problems
    assert report.created == {"sites": 1, "suites": 2, "equipment": 4}
    site = Site.objects.get(code="lyon")
    usp = Suite.objects.get(site=site, name="USP A")
    assert usp.modalities == ["bispecific", "mab"]
    assert usp.status == "operational"
    assert Suite.objects.get(site=site, name="Fill 1").status == "qualification"
    assert Equipment.objects.get(suite=usp, tag="101").working_volume_l == 500
    assert Equipment.objects.get(tag="FL-1").throughput_units_per_h == 24000
    assert Equipment.objects.get(tag="BR-2").suite == world.suites["alpha-bio"]
    with scopes_disabled():
        assert SitePrivateProfile.objects.get(site=site).indicative_batch_price_usd == 1_500_000
    after = db_counts()
    assert after["Site"] - before["Site"] == 1
    assert after["Equipment"] - before["Equipment"] == 4
    # one entry per created object: site, private profile, 2 suites, 4 equipment
    assert after["AuditEntry"] - before["AuditEntry"] == 8


def test_bad_rows_write_nothing_and_name_line_column_and_reason(
    world: Any, write_csv: Callable[..., Path], db_counts: Callable[[], dict[str, int]]
) -> None:
    """Wrong types, bad choices, empty required values and out-of-range values: all reported."""
    before = db_counts()
    path = write_csv(
        "sites.csv",
        [
            SITE_HEADER,
            LYON,
            ["alpha-bio", "nice", "Alpha Nice", "FR", "Mars", "Nice", "north", 7.26],
            ["alpha-bio", "", "Alpha Caen", "FR", "europe", "Caen", 95, 2.0],
            ["alpha-bio", "graz", "Alpha Graz", "AT", "europe", "Graz", 47.07, "15,44"],
        ],
    )
    report = import_file(path, actor=_admin(world))
    assert not report.ok
    assert db_counts() == before
    assert _where(report) == {
        (3, "region"),
        (3, "latitude"),
        (4, "code"),
        (4, "latitude"),
        (5, "longitude"),
    }
    messages = [str(p) for p in report.problems]
    assert "sites.csv, line 3, column 'region': 'Mars' is not one of: " in messages[0]
    assert "line 3, column 'latitude': 'north' is not a number" in messages[1]
    assert "line 4, column 'code': a value is required" in messages[2]
    assert "line 4, column 'latitude': 95 is out of range; allowed -90 to 90" in messages[3]
    assert "line 5, column 'longitude': '15,44' is not a number" in messages[4]
    assert report.summary() == "Nothing imported from sites.csv: 5 problems."


def test_unknown_and_missing_columns_are_reported_on_the_header_line(
    world: Any, write_csv: Callable[..., Path], db_counts: Callable[[], dict[str, int]]
) -> None:
    """A misspelt column is unknown, and the column it was meant to be is missing."""
    before = db_counts()
    header = ["owner", "code", "name", "country", "region", "town", "latitude", "longitude"]
    path = write_csv("more-sites.csv", [["", ""], header, LYON])
    report = import_file(path, actor=_admin(world))
    assert db_counts() == before
    assert _where(report) == {(2, "town"), (2, "city")}
    assert "unknown column; sites columns are: owner, code" in report.problems[0].reason
    assert report.problems[1].reason == "required column is missing"


def test_duplicate_keys_in_the_file_and_in_the_database_write_nothing(
    world: Any, write_csv: Callable[..., Path], db_counts: Callable[[], dict[str, int]]
) -> None:
    """A key seen earlier in the file or already stored rejects the whole file."""
    before = db_counts()
    main = ["alpha-bio", "main", "Again", "US", "north_america", "Boston", 42.36, -71.06]
    path = write_csv("sites.csv", [SITE_HEADER, LYON, main, LYON])
    report = import_file(path, actor=_admin(world))
    assert db_counts() == before
    assert _where(report) == {(3, "code"), (4, "code")}
    assert report.problems[0].reason == "alpha-bio / main already exists in the database"
    assert report.problems[1].reason == "duplicate of line 2 (same owner, code)"


def test_rules_of_the_services_are_checked_before_anything_is_kept(
    world: Any, write_csv: Callable[..., Path], db_counts: Callable[[], dict[str, int]]
) -> None:
    """A bioreactor without a volume fails in the services; the good rows before it are undone."""
    before = db_counts()
    path = write_csv(
        "equipment.csv",
        [
            EQUIPMENT_HEADER,
            ["alpha-bio", "main", "USP 1", "BR-7", "bioreactor_su", 2000, "", ""],
            ["alpha-bio", "main", "USP 1", "BR-8", "bioreactor_su", "", "", ""],
        ],
    )
    report = import_file(path, actor=_admin(world))
    assert db_counts() == before
    assert [(p.line, p.column, p.reason) for p in report.problems] == [
        (3, "working_volume_l", "A bioreactor needs its working volume in L.")
    ]


def test_references_to_unknown_sites_suites_and_owners_are_rejected(
    world: Any, write_xlsx: Callable[..., Path], db_counts: Callable[[], dict[str, int]]
) -> None:
    """Excel problems name the sheet and row; references must exist in the file or database."""
    before = db_counts()
    path = write_xlsx(
        "equipment.xlsx",
        {
            "Suites": [
                SUITE_HEADER,
                ["alpha-bio", "nowhere", "USP 9", "upstream", "C", "", "mab"],
                ["ghost-org", "main", "USP 9", "upstream", "C", "", ""],
                ["sponsor-one", "main", "USP 9", "upstream", "C", "", ""],
                ["alpha-bio", "main", "USP 9", "cryo", "C", "", "mab;unicorns"],
            ]
        },
    )
    report = import_file(path, kind="suites", actor=_admin(world))
    assert db_counts() == before
    assert _where(report) == {
        (2, "site_code"),
        (3, "owner"),
        (4, "owner"),
        (5, "kind"),
        (5, "modalities"),
    }
    first = str(report.problems[0])
    assert first == (
        "equipment.xlsx [sheet Suites], row 2, column 'site_code': "
        "no site 'nowhere' of 'alpha-bio' in the database or this file"
    )
    assert "only CDMOs own sites" in report.problems[2].reason


def test_a_cdmo_imports_only_for_itself_and_a_platform_admin_for_any_cdmo(
    world: Any, write_csv: Callable[..., Path]
) -> None:
    """Another CDMO's rows are refused; the platform admin imports for any CDMO under its own name."""
    row = ["beta-pharma", "lyon", "Beta Lyon", "FR", "europe", "Lyon", 45.76, 4.84]
    path = write_csv("sites.csv", [SITE_HEADER, row])
    refused = import_file(path, actor=_admin(world))
    assert [(p.line, p.column) for p in refused.problems] == [(2, "owner")]
    assert "your own organisation ('alpha-bio')" in refused.problems[0].reason
    admin = world.user("platform", "platform_admin")
    report = import_file(path, actor=admin)
    assert report.ok, report.problems
    with scopes_disabled():
        entry = AuditEntry.objects.get(action="opencdmo.site.created")
    assert entry.reason == "Imported from sites.csv"
    assert entry.actor_id == admin.pk
    assert entry.organisation_id == world.orgs["beta-pharma"].pk


def test_a_role_without_the_import_permission_is_refused(
    world: Any, write_csv: Callable[..., Path]
) -> None:
    """Planners edit the network but do not import."""
    path = write_csv("sites.csv", [SITE_HEADER, LYON])
    with pytest.raises(PermissionDenied):
        import_file(path, actor=world.user("alpha-bio", "cdmo_planner"))
    assert not Site.objects.filter(code="lyon").exists()


def test_dry_run_checks_everything_and_writes_nothing(
    world: Any, write_csv: Callable[..., Path], db_counts: Callable[[], dict[str, int]]
) -> None:
    """A valid file in a dry run is counted, not written."""
    before = db_counts()
    report = import_file(
        write_csv("sites.csv", [SITE_HEADER, LYON]), actor=_admin(world), dry_run=True
    )
    assert report.ok
    assert report.created == {}
    assert report.summary() == (
        "sites.csv is valid: 1 site would be imported (dry run, nothing written)."
    )
    assert db_counts() == before


def test_line_numbers_count_physical_lines_of_multi_line_values(
    world: Any, write_csv: Callable[..., Path]
) -> None:
    """A quoted description spanning lines shifts the next row's line number."""
    header = [*SITE_HEADER, "description"]
    path = write_csv(
        "sites.csv",
        [header, [*LYON, "Two\nlines"], [*OSAKA[:6], "x", OSAKA[7], ""]],
    )
    report = import_file(path, actor=_admin(world))
    assert _where(report) == {(4, "latitude")}


def test_unreadable_files_are_reported_not_raised(world: Any) -> None:
    """Bad bytes, unknown kinds and foreign file types come back as problems."""
    latin1 = ",".join(SITE_HEADER).encode() + b"\nalpha-bio,z\xfcrich\n"
    report = import_file(latin1, "sites.csv", actor=_admin(world))
    assert [(p.line, p.reason) for p in report.problems] == [
        (2, "not UTF-8 text; save the file as CSV UTF-8")
    ]
    report = import_file(b"a,b\n", "plant.csv", actor=_admin(world))
    assert "pass the kind (--kind)" in report.problems[0].reason
    report = import_file(b"PK\x03\x04junk", "sites.xlsx", actor=_admin(world))
    assert report.problems[0].reason.startswith("not a readable Excel workbook")
    report = import_file(b"{}", "sites.json", actor=_admin(world))
    assert report.problems[0].reason == "unsupported file type '.json'; use .csv or .xlsx"


def test_a_value_too_large_for_csv_is_a_problem_not_a_crash(world: Any) -> None:
    """The csv module's own errors are reported with the line they occur on."""
    data = ",".join(SITE_HEADER).encode() + b"\n" + b'alpha-bio,"' + b"x" * 200_000 + b'"\n'
    report = import_file(data, "sites.csv", actor=_admin(world))
    assert [(p.line, p.column) for p in report.problems] == [(2, None)]
    assert report.problems[0].reason.startswith("unreadable CSV (field larger than field limit")


def test_utf16_and_semicolon_files_from_spreadsheet_programs_import(world: Any) -> None:
    """A 'Unicode text' export (UTF-16 with its mark) separated by semicolons is read."""
    text = ";".join(SITE_HEADER) + "\n" + ";".join(str(v) for v in LYON) + "\n"
    report = import_file(text.encode("utf-16"), "sites.csv", actor=_admin(world))
    assert report.ok, report.problems
    assert report.created == {"sites": 1}


def test_a_file_over_the_row_limit_is_rejected_and_writes_nothing(
    world: Any,
    write_csv: Callable[..., Path],
    db_counts: Callable[[], dict[str, int]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Reading stops at the limit; the rows before it write nothing either."""
    monkeypatch.setattr("opencdmo.network.importer.MAX_ROWS", 2)
    path = write_csv("sites.csv", [SITE_HEADER, LYON, OSAKA])
    before = db_counts()
    report = import_file(path, actor=_admin(world))
    assert [(p.line, p.column, p.reason) for p in report.problems] == [
        (3, None, "more than 2 rows; the limit is 2; nothing after it was read")
    ]
    assert db_counts() == before


def test_a_workbook_damaged_inside_a_sheet_is_a_problem_not_a_crash(
    world: Any, write_xlsx: Callable[..., Path], db_counts: Callable[[], dict[str, int]]
) -> None:
    """A sheet whose XML breaks off is reported at the row it reached; nothing is written."""
    path = write_xlsx("plant.xlsx", {"sites": [SITE_HEADER, LYON, OSAKA]})
    source = zipfile.ZipFile(path)
    damaged = io.BytesIO()
    with zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data[: data.index(b'<row r="3"')] + b'<row r="3"><c r='
            target.writestr(item, data)
    before = db_counts()
    report = import_file(damaged.getvalue(), "plant.xlsx", actor=_admin(world))
    assert [(p.sheet, p.line) for p in report.problems] == [("sites", 3)]
    assert report.problems[0].reason.startswith("the workbook is damaged (ParseError)")
    assert db_counts() == before
