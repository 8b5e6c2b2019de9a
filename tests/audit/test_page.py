"""The audit page shows the caller's organisation's chain to QA and administrators only."""

from __future__ import annotations

from typing import Any

import pytest

from opencdmo.audit import services as audit


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


def test_filters_narrow_the_list(world: Any, client_for: Any) -> None:
    """Action, actor and text filters apply; bad dates give a message, not an error."""
    org = world.orgs["alpha-bio"]
    audit.record(
        "opencdmo.suite.changed", organisation_id=org.pk, reason="new grade", actor_name="ann"
    )
    audit.record(
        "opencdmo.site.created", organisation_id=org.pk, reason="opening", actor_name="bob"
    )
    client = client_for(world.user("alpha-bio", "cdmo_qa"))
    actions = {e.action for e in client.get("/audit/?action=suite").context["page"]}
    assert actions == {"opencdmo.suite.changed"}
    assert {e.actor_name for e in client.get("/audit/?actor=bob").context["page"]} == {"bob"}
    assert {e.reason for e in client.get("/audit/?text=opening").context["page"]} == {"opening"}
    bad = client.get("/audit/?since=not-a-date&page=zz")
    assert bad.status_code == 200
    assert b"Enter a valid date" in bad.content


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
    from django_scopes import scopes_disabled

    from opencdmo.audit.models import AuditEntry

    with scopes_disabled():
        entry = AuditEntry.objects.get(action="opencdmo.api_token.created")
    assert entry.request_id == "r" * 64
    assert entry.ip == "127.0.0.9"
    assert audit.verify_all() == []
