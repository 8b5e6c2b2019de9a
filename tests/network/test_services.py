"""Network services: permission, validation and exactly one audit entry per change."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import ProtectedError
from django.http import Http404
from django_scopes import scopes_disabled

from opencdmo.audit.models import AuditEntry
from opencdmo.network import services
from opencdmo.network.models import Equipment, Site, SitePrivateProfile, Suite


def entries() -> list[AuditEntry]:
    with scopes_disabled():
        return list(AuditEntry.objects.filter(action__startswith="opencdmo.").order_by("id"))


def network_entries() -> list[AuditEntry]:
    names = ("site", "suite", "equipment", "approval", "inspection", "site_private_profile")
    return [e for e in entries() if e.action.split(".")[1] in names]


def test_update_suite_writes_one_entry_with_before_and_after(world: Any) -> None:
    """Changing a suite's grade and modalities leaves one entry holding only what changed."""
    suite = world.suites["alpha-bio"]
    admin = world.user("alpha-bio", "cdmo_admin")
    services.update_suite(
        suite, actor=admin, reason="Upgraded HVAC", gmp_grade="B", modalities=["mab", "adc"]
    )
    [entry] = network_entries()
    assert entry.action == "opencdmo.suite.changed"
    assert entry.before == {"gmp_grade": "C", "modalities": ["mab"]}
    assert entry.after == {"gmp_grade": "B", "modalities": ["adc", "mab"]}
    assert entry.reason == "Upgraded HVAC"
    assert entry.actor_id == admin.pk
    assert entry.organisation_id == world.orgs["alpha-bio"].pk
    suite.refresh_from_db()
    assert suite.gmp_grade == "B"
    assert suite.modalities == ["adc", "mab"]


def test_update_without_change_writes_nothing(world: Any) -> None:
    """Saving identical values is not a change and leaves the trail alone."""
    suite = world.suites["alpha-bio"]
    services.update_suite(
        suite, actor=world.user("alpha-bio", "cdmo_planner"), reason="Check", gmp_grade="C"
    )
    assert network_entries() == []


@pytest.mark.parametrize("reason", ["", "   "])
def test_update_requires_a_reason(world: Any, reason: str) -> None:
    """An update without a reason is rejected and changes nothing."""
    suite = world.suites["alpha-bio"]
    with pytest.raises(ValidationError) as exc:
        services.update_suite(
            suite, actor=world.user("alpha-bio", "cdmo_admin"), reason=reason, gmp_grade="A"
        )
    assert "reason" in exc.value.message_dict
    assert Suite.objects.get(pk=suite.pk).gmp_grade == "C"
    assert network_entries() == []


def test_foreign_suite_answers_like_a_missing_one(world: Any) -> None:
    """An editor of another CDMO gets 404, not a hint that the suite exists."""
    with pytest.raises(Http404):
        services.update_suite(
            world.suites["beta-pharma"],
            actor=world.user("alpha-bio", "cdmo_admin"),
            reason="Hostile",
            gmp_grade="A",
        )
    assert Suite.objects.get(pk=world.suites["beta-pharma"].pk).gmp_grade == "C"
    assert network_entries() == []


@pytest.mark.parametrize(
    ("org", "role"),
    [("alpha-bio", "cdmo_qa"), ("alpha-bio", "cdmo_operator"), ("sponsor-one", "sponsor_manager")],
)
def test_roles_without_edit_permission_are_refused(world: Any, org: str, role: str) -> None:
    """Only roles holding EDIT_NETWORK may change suites."""
    with pytest.raises(PermissionDenied):
        services.update_suite(
            world.suites["alpha-bio"], actor=world.user(org, role), reason="Try", gmp_grade="A"
        )
    assert network_entries() == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"gmp_grade": "Z"}, "gmp_grade"),
        ({"status": "flying"}, "status"),
        ({"name": ""}, "name"),
        ({"modalities": ["mab", "unicorn"]}, "modalities"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_values_are_rejected_by_field(world: Any, changes: dict, field: str) -> None:
    """Each bad value names its field and leaves the suite and the trail untouched."""
    suite = world.suites["alpha-bio"]
    with pytest.raises(ValidationError) as exc:
        services.update_suite(
            suite, actor=world.user("alpha-bio", "cdmo_admin"), reason="Edit", **changes
        )
    assert field in exc.value.message_dict
    stored = Suite.objects.get(pk=suite.pk)
    assert (stored.name, stored.gmp_grade, stored.status) == ("USP 1", "C", "operational")
    assert stored.modalities == ["mab"]
    assert network_entries() == []


def test_duplicate_suite_name_is_rejected(world: Any) -> None:
    """Suite names are unique within a site."""
    site = world.sites["alpha-bio"]
    with pytest.raises(ValidationError) as exc:
        services.create_suite(
            actor=None, site=site, reason="Seed", name="USP 1", kind="upstream", gmp_grade="C"
        )
    assert "__all__" in exc.value.message_dict
    assert network_entries() == []


def test_create_site_suite_and_equipment_as_system(world: Any) -> None:
    """Seeding without an actor still audits each object once, with the given reason."""
    owner = world.orgs["beta-pharma"]
    site = services.create_site(
        actor=None,
        owner=owner,
        reason="Demo seed",
        code="lyon",
        name="Beta Lyon",
        country="fr",
        region="europe",
        city="Lyon",
        latitude=45.76,
        longitude=4.84,
    )
    suite = services.create_suite(
        actor=None,
        site=site,
        reason="Demo seed",
        modalities=["mab", "bispecific"],
        name="USP 2",
        kind="upstream",
        gmp_grade="C",
    )
    services.create_equipment(
        actor=None,
        suite=suite,
        reason="Demo seed",
        tag="SUB-1",
        kind="bioreactor_su",
        working_volume_l="2000",
    )
    actions = [(e.action, e.reason, e.actor_id) for e in network_entries()]
    assert actions == [
        ("opencdmo.site.created", "Demo seed", None),
        ("opencdmo.suite.created", "Demo seed", None),
        ("opencdmo.equipment.created", "Demo seed", None),
    ]
    assert site.country == "FR"
    assert network_entries()[1].after["modalities"] == ["bispecific", "mab"]
    assert Equipment.objects.get(tag="SUB-1").working_volume_l == 2000.0


def test_create_site_for_another_organisation_is_refused(world: Any) -> None:
    """A CDMO admin cannot plant sites in a competitor's network: it answers like a missing one."""
    with pytest.raises(Http404):
        services.create_site(
            actor=world.user("alpha-bio", "cdmo_admin"),
            owner=world.orgs["beta-pharma"],
            reason="x",
            code="x",
            name="X",
            country="US",
            region="north_america",
            city="X",
            latitude=0,
            longitude=0,
        )
    assert not Site.objects.filter(code="x").exists()


def test_sponsors_cannot_own_sites(world: Any) -> None:
    """Only CDMOs own sites."""
    with pytest.raises(ValidationError) as exc:
        services.create_site(
            actor=None,
            owner=world.orgs["sponsor-one"],
            reason="x",
            code="x",
            name="X",
            country="US",
            region="north_america",
            city="X",
            latitude=0,
            longitude=0,
        )
    assert "owner" in exc.value.message_dict


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"country": "USA"}, "country"),
        ({"latitude": 95}, "latitude"),
        ({"region": "atlantis"}, "region"),
        ({"longitude": "east"}, "longitude"),
    ],
)
def test_bad_site_values_are_rejected(world: Any, fields: dict, field: str) -> None:
    """Coordinates, country codes and regions are checked before anything is written."""
    values = {
        "code": "new",
        "name": "New",
        "country": "US",
        "region": "north_america",
        "city": "X",
        "latitude": 10,
        "longitude": 10,
        **fields,
    }
    with pytest.raises(ValidationError) as exc:
        services.create_site(actor=None, owner=world.orgs["alpha-bio"], reason="x", **values)
    assert field in exc.value.message_dict
    assert not Site.objects.filter(code="new").exists()
    assert network_entries() == []


def test_bioreactor_needs_a_volume(world: Any) -> None:
    """A bioreactor without a working volume would make capabilities meaningless."""
    with pytest.raises(ValidationError) as exc:
        services.create_equipment(
            actor=None,
            suite=world.suites["alpha-bio"],
            reason="x",
            tag="BR-9",
            kind="bioreactor_ss",
        )
    assert "working_volume_l" in exc.value.message_dict


def test_update_equipment_records_volume_change(world: Any) -> None:
    """Equipment changes carry old and new working volume."""
    eq = world.equipment["alpha-bio"]
    services.update_equipment(
        eq, actor=world.user("alpha-bio", "cdmo_msat"), reason="Re-rated", working_volume_l=2500
    )
    [entry] = network_entries()
    assert (entry.action, entry.before, entry.after) == (
        "opencdmo.equipment.changed",
        {"working_volume_l": 2000.0},
        {"working_volume_l": 2500.0},
    )


def test_delete_equipment_records_what_it_was(world: Any) -> None:
    """Deletion needs a reason and keeps the deleted values on the trail."""
    eq = world.equipment["alpha-bio"]
    actor = world.user("alpha-bio", "cdmo_admin")
    with pytest.raises(ValidationError):
        services.delete_equipment(eq, actor=actor, reason="")
    services.delete_equipment(eq, actor=actor, reason="Scrapped")
    [entry] = network_entries()
    assert entry.action == "opencdmo.equipment.deleted"
    assert entry.before["tag"] == "BR-1"
    assert entry.after is None
    assert not Equipment.objects.filter(pk=eq.pk).exists()


def test_delete_suite_records_its_modalities(world: Any) -> None:
    """A deleted suite's entry keeps the modalities it was qualified for."""
    services.delete_suite(
        world.suites["alpha-bio"], actor=world.user("alpha-bio", "cdmo_admin"), reason="Closed"
    )
    [entry] = network_entries()
    assert entry.before["modalities"] == ["mab"]


def test_approvals_and_inspections_round_trip(world: Any) -> None:
    """Approvals and inspections are created, corrected and deleted with one entry each."""
    site = world.sites["alpha-bio"]
    actor = world.user("alpha-bio", "cdmo_admin")
    approval = services.create_approval(
        actor=actor,
        site=site,
        reason="New licence",
        agency="PMDA",
        scope="mAb DS",
        granted_on="2023-04-01",
    )
    inspection = services.create_inspection(
        actor=actor,
        site=site,
        reason="Inspected",
        agency="PMDA",
        inspected_on=dt.date(2025, 1, 9),
        outcome="voluntary_action",
        observations=2,
    )
    services.update_inspection(inspection, actor=actor, reason="Typo", observations=3)
    services.delete_approval(approval, actor=actor, reason="Withdrawn")
    assert [e.action for e in network_entries()] == [
        "opencdmo.approval.created",
        "opencdmo.inspection.created",
        "opencdmo.inspection.changed",
        "opencdmo.approval.deleted",
    ]
    assert network_entries()[2].before == {"observations": 2}


def test_future_inspection_is_rejected(world: Any) -> None:
    """Inspections are recorded once they happened."""
    with pytest.raises(ValidationError) as exc:
        services.create_inspection(
            actor=None,
            site=world.sites["alpha-bio"],
            reason="x",
            agency="FDA",
            inspected_on=dt.date.today() + dt.timedelta(days=30),
            outcome="no_action",
        )
    assert "inspected_on" in exc.value.message_dict


def test_private_profile_update_is_audited_in_owner_chain(world: Any) -> None:
    """Private details change only by the owner, with one entry in the owner's chain."""
    site = world.sites["alpha-bio"]
    services.update_private_profile(
        site,
        actor=world.user("alpha-bio", "cdmo_admin"),
        reason="Pricing",
        indicative_batch_price_usd=450000,
    )
    [entry] = network_entries()
    assert entry.action == "opencdmo.site_private_profile.changed"
    assert entry.after == {"indicative_batch_price_usd": 450000}
    with scopes_disabled():
        assert SitePrivateProfile.objects.get(site=site).indicative_batch_price_usd == 450000
    with pytest.raises(Http404):
        services.update_private_profile(
            site, actor=world.user("beta-pharma", "cdmo_admin"), reason="x", key_contact="me"
        )


def test_update_site_normalises_country(world: Any) -> None:
    """Country codes are stored upper case whichever way they were typed."""
    site = services.update_site(
        world.sites["alpha-bio"],
        actor=world.user("alpha-bio", "cdmo_admin"),
        reason="Moved",
        country="ca",
        region="north_america",
    )
    assert site.country == "CA"
    [entry] = network_entries()
    assert entry.before == {"country": "US"}


def test_update_of_an_object_deleted_meanwhile_is_a_404(world: Any) -> None:
    """A stale object (deleted by someone else) answers like a missing one."""
    eq = world.equipment["alpha-bio"]
    Equipment.objects.filter(pk=eq.pk).delete()
    with pytest.raises(Http404):
        services.update_equipment(eq, actor=None, reason="Late", manufacturer="X")
    assert network_entries() == []


def test_delete_of_a_protected_object_is_refused_with_a_message(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When another record still needs the object, nothing is deleted and nothing audited."""

    def protected(self: Any, *args: Any, **kwargs: Any) -> None:
        raise ProtectedError("in use", {world.suites["alpha-bio"]})

    monkeypatch.setattr(Site, "delete", protected)
    with pytest.raises(ValidationError) as exc:
        services.delete_site(world.sites["alpha-bio"], actor=None, reason="Closing")
    assert "still referred to by suites" in str(exc.value)
    assert Site.objects.filter(pk=world.sites["alpha-bio"].pk).exists()
    assert network_entries() == []


def test_nul_characters_are_rejected_before_the_database_sees_them(world: Any) -> None:
    """PostgreSQL refuses NUL in text; the service says so per field instead of failing."""
    with pytest.raises(ValidationError) as exc:
        services.update_suite(world.suites["alpha-bio"], actor=None, reason="x", name="USP\x001")
    assert exc.value.message_dict["name"] == [
        "The text contains a control character (U+0000) at position 4."
    ]
