"""The audit page shows the caller's organisation's chain to QA and administrators, in words."""

from __future__ import annotations

from typing import Any

import pytest
from django_scopes import scopes_disabled

from opencdmo.audit import services as audit
from opencdmo.audit.models import AuditEntry
from opencdmo.network import services as network


def test_qa_sees_own_entries_only(world: Any, client_for: Any) -> None:
    """Entries of another organisation never appear, whatever the filter."""
    audit.record("opencdmo.test.mine", organisation_id=world.orgs["alpha-bio"].pk, reason="ours")
    audit.record(
        "opencdmo.test.theirs", organisation_id=world.orgs["beta-pharma"].pk, reason="theirs"
    )
    response = client_for(world.user("alpha-bio", "cdmo_qa")).get("/audit/")
    assert response.status_code == 200
    assert b"opencdmo.test.mine" in response.content
    assert b"opencdmo.test.theirs" not in response.content
    assert all(e.organisation_id == world.orgs["alpha-bio"].pk for e in response.context["page"])
    choices = [value for value, _ in response.context["form"].fields["action"].choices]
    assert "Test" in choices
    assert all("theirs" not in str(c) for c in response.context["form"].fields["action"].choices)


@pytest.mark.parametrize(
    ("org", "role", "status"),
    [
        ("alpha-bio", "cdmo_admin", 200),
        ("alpha-bio", "cdmo_qa", 200),
        ("sponsor-one", "sponsor_qa", 200),
        ("alpha-bio", "cdmo_planner", 403),
        ("alpha-bio", "cdmo_operator", 403),
        ("sponsor-one", "sponsor_viewer", 403),
    ],
)
def test_audit_page_is_for_qa_and_admins(
    world: Any, client_for: Any, org: str, role: str, status: int
) -> None:
    """Other roles are refused."""
    assert client_for(world.user(org, role)).get("/audit/").status_code == status


def test_page_shows_labels_not_codes(world: Any, client_for: Any) -> None:
    """'Suite changed', 'GMP grade: Grade C → Grade B', the site's name, no raw ids or floats."""
    planner = world.user("alpha-bio", "cdmo_planner")
    network.update_suite(
        world.suites["alpha-bio"], actor=planner, reason="HVAC requalified", gmp_grade="B"
    )
    network.update_equipment(
        world.equipment["alpha-bio"], actor=planner, reason="Bigger bag", working_volume_l=15000.0
    )
    html = client_for(world.user("alpha-bio", "cdmo_qa")).get("/audit/").content.decode()
    assert "Suite changed" in html
    assert (
        '<span class="field" title="gmp_grade">GMP grade</span>: <del>Grade C</del> → <ins>Grade B</ins>'
        in html
    )
    assert "Working volume (L)</span>: <del>2000</del> → <ins>15,000</ins>" in html
    assert "15000.0" not in html
    assert "Login" in html


def test_action_filter_is_a_labelled_choice_grouped_by_object(world: Any, client_for: Any) -> None:
    """The action list offers the trail's actions by label under their object type."""
    org = world.orgs["alpha-bio"]
    audit.record("opencdmo.suite.changed", organisation_id=org.pk, reason="new grade")
    audit.record("opencdmo.site.created", organisation_id=org.pk, reason="opening")
    client = client_for(world.user("alpha-bio", "cdmo_qa"))
    response = client.get("/audit/")
    groups = dict(response.context["form"].fields["action"].choices)
    assert groups["Suite"] == [("opencdmo.suite.changed", "Suite changed")]
    assert groups["Site"] == [("opencdmo.site.created", "Site created")]
    assert ("opencdmo.user.logged_in", "Login") in groups["User"]
    assert '<optgroup label="Suite">' in response.content.decode()


def test_filters_narrow_the_list(world: Any, client_for: Any) -> None:
    """Action, actor, object type and text filters apply; bad input gives a message, not an error."""
    org = world.orgs["alpha-bio"]
    audit.record(
        "opencdmo.suite.changed",
        organisation_id=org.pk,
        target=world.suites["alpha-bio"],
        reason="new grade",
        actor_name="ann",
    )
    audit.record(
        "opencdmo.site.created",
        organisation_id=org.pk,
        target=world.sites["alpha-bio"],
        reason="opening",
        actor_name="bob",
    )
    client = client_for(world.user("alpha-bio", "cdmo_qa"))
    page = client.get("/audit/?action=opencdmo.suite.changed").context["page"]
    assert {e.action for e in page} == {"opencdmo.suite.changed"}
    assert {e.actor_name for e in client.get("/audit/?actor=bob").context["page"]} == {"bob"}
    assert {e.reason for e in client.get("/audit/?text=opening").context["page"]} == {"opening"}
    by_type = client.get("/audit/?object_type=network.site").context["page"]
    assert {e.action for e in by_type} == {"opencdmo.site.created"}
    bad = client.get("/audit/?since=not-a-date&action=opencdmo.nothing&actor=bob&page=zz")
    assert bad.status_code == 200
    assert b"Enter a valid date" in bad.content
    assert b"Select a valid choice" in bad.content
    assert {e.actor_name for e in bad.context["page"]} == {"bob"}


def test_date_filters_are_inclusive_and_ordered(world: Any, client_for: Any) -> None:
    """From and To take whole UTC days; To before From is named."""
    audit.record("opencdmo.test.event", organisation_id=world.orgs["alpha-bio"].pk)
    with scopes_disabled():
        day = AuditEntry.objects.get(action="opencdmo.test.event").at.date()
    client = client_for(world.user("alpha-bio", "cdmo_qa"))
    same_day = client.get(f"/audit/?since={day}&until={day}&action=opencdmo.test.event")
    assert same_day.context["page"].paginator.count == 1
    backwards = client.get("/audit/?since=2026-02-02&until=2026-01-01")
    assert b"The end date is before the start date." in backwards.content


def test_entries_carry_request_id_and_client_address(world: Any, client_for: Any) -> None:
    """A request's id (truncated to fit) and the socket's address go into its entries."""
    client = client_for(world.user("alpha-bio", "cdmo_admin"))
    client.post(
        "/account/tokens/",
        {"name": "traced"},
        HTTP_X_REQUEST_ID="r" * 100,
        HTTP_X_FORWARDED_FOR="203.0.113.9",
        REMOTE_ADDR="127.0.0.9",
    )
    with scopes_disabled():
        entry = AuditEntry.objects.get(action="opencdmo.api_token.created")
    assert entry.request_id == "r" * 64
    assert entry.ip == "127.0.0.9"
    assert audit.verify_all() == []


def test_shared_entries_name_the_chain_they_belong_to(world: Any, client_for: Any) -> None:
    """An entry Beta wrote about a record shared with Alpha shows on Alpha's page under Beta's name."""
    alpha, beta = world.orgs["alpha-bio"], world.orgs["beta-pharma"]
    audit.record("opencdmo.test.ours", organisation_id=alpha.pk, reason="ours")
    audit.record(
        "opencdmo.test.shared", organisation_id=beta.pk, shared_with_id=alpha.pk, reason="shared"
    )
    client = client_for(world.user("alpha-bio", "cdmo_qa"))
    html = client.get("/audit/").content.decode()
    assert (
        f'title="Entry #1 of chain {audit.chain_key(beta.pk)}, shared with you">Beta Pharma' in html
    )
    assert html.count('class="muted small shared"') == 1
    body = b"".join(client.get("/audit/export.csv").streaming_content).decode("utf-8-sig")
    assert f"{audit.chain_key(beta.pk)},1," in body
