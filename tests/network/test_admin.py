"""Django admin for network master data: role-based access, writes audited through services."""

from __future__ import annotations

from typing import Any

import pytest
from django_scopes import scopes_disabled

from opencdmo.audit.models import AuditEntry
from opencdmo.network.models import Equipment, Site, Suite


def network_entries() -> list[AuditEntry]:
    with scopes_disabled():
        return list(AuditEntry.objects.filter(action__regex=r"^opencdmo\.(site|suite|equipment)\."))


@pytest.fixture
def editor(world: Any, client_for: Any) -> Any:
    """Alpha Bio's CDMO admin, made staff by the operator so that it may use the admin."""
    user = world.user("alpha-bio", "cdmo_admin")
    user.is_staff = True
    user.save()
    return client_for(user)


def suite_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "USP 1",
        "kind": "upstream",
        "gmp_grade": "B",
        "status": "operational",
        "modalities": ["mab", "adc"],
        "reason": "Requalified",
    }
    return {**data, **overrides}


def test_non_staff_cdmo_admins_get_the_apps_forbidden_page(world: Any, client_for: Any) -> None:
    client = client_for(world.user("alpha-bio", "cdmo_admin"))
    assert client.get("/admin/network/site/").status_code == 403


def test_platform_admin_curates_every_cdmos_master_data(world: Any, client_for: Any) -> None:
    """The platform administrator edits any CDMO's suite; the entry lands in that CDMO's chain."""
    admin = world.user("platform", "platform_admin")
    client = client_for(admin)
    listing = client.get("/admin/network/site/").content.decode()
    assert "Alpha Bio Boston" in listing
    assert "Beta Pharma Munich" in listing
    assert client.get("/admin/network/site/add/").status_code == 200
    suite = world.suites["beta-pharma"]
    page = client.get(f"/admin/network/suite/{suite.pk}/change/").content.decode()
    assert 'name="reason"' in page
    assert client.post(f"/admin/network/suite/{suite.pk}/change/", suite_data()).status_code == 302
    [entry] = network_entries()
    assert entry.actor_id == admin.pk
    assert entry.organisation_id == world.orgs["beta-pharma"].pk
    assert entry.after == {"gmp_grade": "B", "modalities": ["adc", "mab"]}


def test_cdmo_admin_changes_own_suite_with_reason_and_audit(world: Any, editor: Any) -> None:
    """One audited change, holding the reason and only what changed."""
    suite = world.suites["alpha-bio"]
    assert (
        'name="reason"' in editor.get(f"/admin/network/suite/{suite.pk}/change/").content.decode()
    )
    response = editor.post(f"/admin/network/suite/{suite.pk}/change/", suite_data())
    assert response.status_code == 302
    [entry] = network_entries()
    assert entry.action == "opencdmo.suite.changed"
    assert entry.reason == "Requalified"
    assert entry.before == {"gmp_grade": "C", "modalities": ["mab"]}
    assert entry.after == {"gmp_grade": "B", "modalities": ["adc", "mab"]}
    assert Suite.objects.get(pk=suite.pk).modalities == ["adc", "mab"]


def test_admin_change_without_reason_is_refused(world: Any, editor: Any) -> None:
    suite = world.suites["alpha-bio"]
    response = editor.post(f"/admin/network/suite/{suite.pk}/change/", suite_data(reason=""))
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert Suite.objects.get(pk=suite.pk).gmp_grade == "C"
    assert network_entries() == []


def test_cdmo_admin_cannot_change_a_competitors_suite(world: Any, editor: Any) -> None:
    suite = world.suites["beta-pharma"]
    page = editor.get(f"/admin/network/suite/{suite.pk}/change/").content.decode()
    assert 'name="reason"' not in page
    assert editor.post(f"/admin/network/suite/{suite.pk}/change/", suite_data()).status_code == 403
    assert Suite.objects.get(pk=suite.pk).gmp_grade == "C"
    assert network_entries() == []


def test_admin_applies_the_network_rules(world: Any, editor: Any) -> None:
    """A bioreactor without volume is refused with the services' message."""
    eq = world.equipment["alpha-bio"]
    data = {"tag": "BR-1", "kind": "bioreactor_ss", "working_volume_l": "", "reason": "x"}
    response = editor.post(f"/admin/network/equipment/{eq.pk}/change/", data)
    assert response.status_code == 200
    assert "A bioreactor needs its working volume in L." in response.content.decode()
    assert Equipment.objects.get(pk=eq.pk).kind == "bioreactor_su"
    assert network_entries() == []


def test_admin_adds_a_site_only_to_own_organisation(world: Any, editor: Any) -> None:
    data = {
        "owner": world.orgs["alpha-bio"].pk,
        "code": "cork",
        "name": "Alpha Cork",
        "country": "IE",
        "region": "europe",
        "city": "Cork",
        "latitude": "51.9",
        "longitude": "-8.47",
        "reason": "New plant acquired",
    }
    assert editor.post("/admin/network/site/add/", data).status_code == 302
    [entry] = network_entries()
    assert (entry.action, entry.reason) == ("opencdmo.site.created", "New plant acquired")
    foreign = {**data, "owner": world.orgs["beta-pharma"].pk, "code": "x"}
    response = editor.post("/admin/network/site/add/", foreign)
    assert "Select a valid choice" in response.content.decode()
    assert not Site.objects.filter(code="x").exists()


@pytest.mark.parametrize("role", ["cdmo_qa", "cdmo_operator"])
def test_staff_without_edit_permission_only_views(world: Any, client_for: Any, role: str) -> None:
    """Staff whose role lacks EDIT_NETWORK browse but cannot add."""
    user = world.user("alpha-bio", role)
    user.is_staff = True
    user.save()
    client = client_for(user)
    assert client.get("/admin/network/site/").status_code == 200
    assert client.get("/admin/network/site/add/").status_code == 403


def test_nothing_can_be_deleted_in_the_admin(world: Any, editor: Any) -> None:
    suite = world.suites["alpha-bio"]
    assert (
        editor.post(f"/admin/network/suite/{suite.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert Suite.objects.filter(pk=suite.pk).exists()
