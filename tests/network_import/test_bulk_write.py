"""The bulk write of an import: the same objects and audit entries as the services write,
a chain that verifies, an updated network cache, and nothing at all for a rejected file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from opencdmo.audit import services as audit
from opencdmo.audit.models import AuditEntry
from opencdmo.network import importer, services
from opencdmo.network.cache import network_version
from opencdmo.network.importer import import_file
from opencdmo.network.models import Equipment, Site, SitePrivateProfile, Suite
from tests.network_import.conftest import EQUIPMENT_HEADER, SITE_HEADER, SUITE_HEADER

pytestmark = pytest.mark.django_db

PRIVATE = ["indicative_batch_price_usd", "key_contact"]
LYON = ["alpha-bio", "lyon", "Alpha Lyon", "fr", "Europe", "Lyon", 45.764, 4.8357, 900_000, "Ana"]
# What the entry of a created object may differ in: where it is, when, and the new ids.
PLACE = {"id", "seq", "at", "prev_hash", "hash", "object_id"}


def _entry_fields(entry: AuditEntry) -> dict[str, Any]:
    fields = {f.attname: getattr(entry, f.attname) for f in AuditEntry._meta.concrete_fields}
    fields = {name: value for name, value in fields.items() if name not in PLACE}
    after = dict(fields["after"])
    for key in ("id", "site_id", "suite_id"):
        after.pop(key, None)
    return {**fields, "after": after}


def _entries(action: str) -> list[AuditEntry]:
    with scopes_disabled():
        return list(AuditEntry.objects.filter(action=action).order_by("seq"))


def test_an_imported_entry_holds_what_the_services_write_for_the_same_object(
    world: Any, write_csv: Callable[..., Path]
) -> None:
    """Site, private profile, suite and equipment entries: the same fields, the same state."""
    admin = world.user("alpha-bio", "cdmo_admin")
    path = write_csv("network.csv" if False else "sites.csv", [[*SITE_HEADER, *PRIVATE], LYON])
    assert import_file(path, actor=admin).ok
    suites = write_csv(
        "suites.csv",
        [SUITE_HEADER, ["alpha-bio", "lyon", "USP A", "upstream", "C", "", "mab;adc"]],
    )
    assert import_file(suites, actor=admin).ok
    equipment = write_csv(
        "equipment.csv",
        [EQUIPMENT_HEADER, ["alpha-bio", "lyon", "USP A", "BR-1", "bioreactor_su", 500, "", "X"]],
    )
    assert import_file(equipment, actor=admin).ok
    reasons = {"sites.csv", "suites.csv", "equipment.csv"}
    imported = {
        action: _entries(action)
        for action in (
            "opencdmo.site.created",
            "opencdmo.site_private_profile.created",
            "opencdmo.suite.created",
            "opencdmo.equipment.created",
        )
    }
    owner = world.orgs["alpha-bio"]
    site = services.create_site(
        actor=admin,
        owner=owner,
        reason="Imported from sites.csv",
        code="lyon-2",
        name="Alpha Lyon",
        country="fr",
        region="europe",
        city="Lyon",
        latitude=45.764,
        longitude=4.8357,
    )
    services.update_private_profile(
        site,
        actor=admin,
        reason="Imported from sites.csv",
        indicative_batch_price_usd=900_000,
        key_contact="Ana",
    )
    suite = services.create_suite(
        actor=admin,
        site=site,
        reason="Imported from suites.csv",
        name="USP A",
        kind="upstream",
        gmp_grade="C",
        modalities=["mab", "adc"],
    )
    services.create_equipment(
        actor=admin,
        suite=suite,
        reason="Imported from equipment.csv",
        tag="BR-1",
        kind="bioreactor_su",
        working_volume_l=500.0,
        manufacturer="X",
    )
    for action, (bulk,) in imported.items():
        single = _entries(action)[-1]
        expected = _entry_fields(single)
        if action == "opencdmo.site.created":
            expected["after"]["code"] = "lyon"
            expected["object_repr"] = "Alpha Lyon"
        assert _entry_fields(bulk) == expected, action
        assert bulk.reason in {f"Imported from {r}" for r in reasons}
    assert audit.verify_all() == []


def test_a_bulk_import_verifies_and_appends_after_other_entries_of_the_chain(
    world: Any, write_csv: Callable[..., Path]
) -> None:
    """Entries written before and after an import chain onto it; verify finds no break."""
    admin = world.user("alpha-bio", "cdmo_admin")
    owner = world.orgs["alpha-bio"]
    audit.record("opencdmo.test.before", organisation_id=owner.pk, reason="before")
    rows = [
        [*SITE_HEADER],
        *(["alpha-bio", f"s{i}", f"Site {i}", "FR", "europe", "Lyon", 45, 4] for i in range(300)),
    ]
    report = import_file(write_csv("sites.csv", rows), actor=admin)
    assert report.created == {"sites": 300}
    audit.record("opencdmo.test.after", organisation_id=owner.pk, reason="after")
    with scopes_disabled():
        chain = list(AuditEntry.objects.filter(organisation=owner).order_by("seq"))
    assert [e.seq for e in chain] == list(range(1, len(chain) + 1))
    assert chain[-1].action == "opencdmo.test.after"
    assert [e.object_repr for e in chain[-301:-1]] == [f"Site {i}" for i in range(300)]
    assert audit.verify_all() == []


def test_an_import_reads_stored_keys_once_per_owner_not_once_per_row(
    world: Any, write_csv: Callable[..., Path]
) -> None:
    """The queries of a 300-row and a 30-row import are as many: checking is set-based."""
    admin = world.user("alpha-bio", "cdmo_admin")

    def queries(rows: int, prefix: str) -> int:
        lines = [
            ["alpha-bio", f"{prefix}{i}", f"Site {i}", "FR", "europe", "Lyon", 45, 4]
            for i in range(rows)
        ]
        path = write_csv(f"{prefix}-sites.csv", [SITE_HEADER, *lines])
        with CaptureQueriesContext(connection) as captured:
            assert import_file(path, actor=admin).ok
        return len(captured)

    queries(30, "warm")  # the chain's head is created by the first entry
    assert queries(300, "a") == queries(30, "b")


def test_an_import_moves_the_network_version(world: Any, write_csv: Callable[..., Path]) -> None:
    """Cached directory pages are not served stale after an import (no save signal fires)."""
    before = network_version()
    path = write_csv("sites.csv", [SITE_HEADER, LYON[:8]])
    assert import_file(path, actor=world.user("alpha-bio", "cdmo_admin")).ok
    assert network_version() != before


def test_a_file_with_one_bad_row_of_many_writes_nothing(
    world: Any, write_csv: Callable[..., Path], db_counts: Callable[[], dict[str, int]]
) -> None:
    """All or nothing: 499 good rows and one that fails a model rule leave the database as it was."""
    before = db_counts()
    rows = [["alpha-bio", f"s{i}", f"Site {i}", "FR", "europe", "Lyon", 45, 4] for i in range(499)]
    rows.append(["alpha-bio", "bad", "Bad", "F1", "europe", "Lyon", 45, 4])
    report = import_file(
        write_csv("sites.csv", [SITE_HEADER, *rows]), actor=world.user("alpha-bio", "cdmo_admin")
    )
    assert [(p.line, p.column) for p in report.problems] == [(501, "country")]
    assert report.problems[0].reason == "Use a two-letter ISO 3166-1 country code such as 'US'."
    assert db_counts() == before
    with scopes_disabled():
        assert not Site.objects.filter(code="s1").exists()
        assert not Suite.objects.filter(name="USP A").exists()
        assert Equipment.objects.count() == 2
        assert SitePrivateProfile.objects.count() == 2


def test_ids_are_taken_again_when_someone_inserts_between_preparing_and_writing(
    world: Any, write_csv: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite ids are counted from the highest one: a site created meanwhile moves them."""
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL takes the ids from the sequence, which nobody else reuses")
    real_stage = importer._stage

    def stage_then_someone_creates_a_site(statements: Any) -> list[str]:
        staged = real_stage(statements)
        with scopes_disabled():
            Site.objects.create(
                owner=world.orgs["beta-pharma"],
                code="meanwhile",
                name="Meanwhile",
                country="DE",
                region="europe",
                city="Bonn",
                latitude=50.7,
                longitude=7.1,
            )
        return staged

    monkeypatch.setattr(importer, "_stage", stage_then_someone_creates_a_site)
    rows = [["alpha-bio", f"s{i}", f"Site {i}", "FR", "europe", "Lyon", 45, 4] for i in range(20)]
    report = import_file(
        write_csv("sites.csv", [SITE_HEADER, *rows]), actor=world.user("alpha-bio", "cdmo_admin")
    )
    assert report.created == {"sites": 20}
    with scopes_disabled():
        assert Site.objects.filter(code__startswith="s").count() == 20
        assert Site.objects.filter(code="meanwhile").exists()
        entries = AuditEntry.objects.filter(action="opencdmo.site.created")
        assert {e.object_id for e in entries} == {
            str(pk) for pk in Site.objects.filter(code__startswith="s").values_list("pk", flat=True)
        }
    assert audit.verify_all() == []
