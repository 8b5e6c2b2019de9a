"""User management by each organisation's administrator: invite, set password, role, deactivate."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.test import Client
from django_scopes import scopes_disabled

from opencdmo.accounts import services
from opencdmo.accounts.models import User
from opencdmo.audit.models import AuditEntry

NEW_PASSWORD = "a-long-first-passphrase-7"


def _invite_data(**overrides: str) -> dict[str, str]:
    data = {
        "first_name": "Ines",
        "last_name": "Okafor",
        "email": "ines@example.org",
        "username": "ines.okafor",
        "role": "cdmo_planner",
        "reason": "New planner for the Boston site",
    }
    return {**data, **overrides}


def _entries(action: str) -> list[AuditEntry]:
    with scopes_disabled():
        return list(AuditEntry.objects.filter(action=action).order_by("seq"))


def _user(username: str) -> User | None:
    with scopes_disabled():
        return User.objects.filter(username=username).first()


def _link(response: Any) -> str:
    match = re.search(r'data-testid="set-password-link">([^<]+)<', response.content.decode())
    assert match, "no set-password link on the page"
    return match.group(1).replace("http://testserver", "")


def test_admin_invites_a_user_who_sets_a_password_once_and_signs_in(
    world: Any, client_for: Any
) -> None:
    """The invite creates a user without a password, audited; the link works exactly once."""
    admin = world.user("alpha-bio", "cdmo_admin")
    response = client_for(admin).post("/users/invite/", _invite_data())
    assert response.status_code == 200
    invited = _user("ines.okafor")
    assert invited is not None
    assert invited.organisation == world.orgs["alpha-bio"]
    assert not invited.has_usable_password()
    [entry] = _entries("opencdmo.user.invited")
    assert entry.organisation_id == world.orgs["alpha-bio"].pk
    assert entry.actor_id == admin.pk
    assert entry.reason == "New planner for the Boston site"
    assert entry.after["role"] == "cdmo_planner"

    visitor = Client()
    link = _link(response)
    form_page = visitor.get(link, follow=True)
    assert b"Set your password" in form_page.content
    set_url = form_page.redirect_chain[-1][0]
    done = visitor.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert (
        Client().post("/login/", {"username": "ines.okafor", "password": NEW_PASSWORD}).status_code
        == 302
    )
    [password_set] = _entries("opencdmo.user.password_set")
    assert password_set.actor_id == invited.pk
    assert b"This link no longer works" in Client().get(link, follow=True).content


def test_invite_into_another_organisation_kinds_role_names_the_field_and_saves_nothing(
    world: Any,
) -> None:
    """A sponsor role for a CDMO user is refused on 'role'; no user and no entry are written."""
    admin = world.user("alpha-bio", "cdmo_admin")
    with pytest.raises(ValidationError) as caught:
        services.invite_user(
            admin,
            organisation=world.orgs["alpha-bio"],
            username="wrong.role",
            email="w@example.org",
            role="sponsor_manager",
            reason="Testing",
        )
    assert "role" in caught.value.message_dict
    assert _user("wrong.role") is None
    assert _entries("opencdmo.user.invited") == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"username": "alpha-bio-cdmo_qa"}, "username"),
        ({"email": "not-an-address"}, "email"),
        ({"email": ""}, "email"),
        ({"reason": "  "}, "reason"),
        ({"role": "platform_admin"}, "role"),
        ({"username": ""}, "username"),
    ],
)
def test_bad_invite_shows_the_fields_error_and_saves_nothing(
    world: Any, client_for: Any, overrides: dict[str, str], field: str
) -> None:
    """Each bad value re-shows the form with an error under its field; nothing is stored."""
    with scopes_disabled():
        before = User.objects.count()
    response = client_for(world.user("alpha-bio", "cdmo_admin")).post(
        "/users/invite/", _invite_data(**overrides)
    )
    assert response.status_code == 200
    assert f'id="id_{field}-errors"' in response.content.decode()
    with scopes_disabled():
        assert User.objects.count() == before
    assert _entries("opencdmo.user.invited") == []


@pytest.mark.parametrize(
    ("slug", "role"),
    [
        ("alpha-bio", "cdmo_planner"),
        ("alpha-bio", "cdmo_qa"),
        ("sponsor-one", "sponsor_manager"),
        ("sponsor-one", "sponsor_qa"),
    ],
)
def test_roles_without_user_management_are_refused(
    world: Any, client_for: Any, slug: str, role: str
) -> None:
    """Every user-management page and action answers 403 to a role without MANAGE_USERS."""
    client = client_for(world.user(slug, role))
    target = world.user(slug, role)
    assert client.get("/users/").status_code == 403
    assert client.get("/users/invite/").status_code == 403
    assert client.post("/users/invite/", _invite_data()).status_code == 403
    assert client.get(f"/users/{target.pk}/").status_code == 403
    assert client.post(f"/users/{target.pk}/active/", {"reason": "x"}).status_code == 403
    assert _user("ines.okafor") is None


def test_another_organisations_admin_gets_404_for_your_users(world: Any, client_for: Any) -> None:
    """Beta's administrator cannot see, change or deactivate Alpha's planner; nothing changes."""
    planner = world.user("alpha-bio", "cdmo_planner")
    client = client_for(world.user("beta-pharma", "cdmo_admin"))
    assert client.get(f"/users/{planner.pk}/").status_code == 404
    role = client.post(f"/users/{planner.pk}/role/", {"role": "cdmo_qa", "reason": "x"})
    assert role.status_code == 404
    active = client.post(f"/users/{planner.pk}/active/", {"active": "0", "reason": "x"})
    assert active.status_code == 404
    assert client.post(f"/users/{planner.pk}/link/").status_code == 404
    assert client.get("/users/?organisation=alpha-bio").status_code == 404
    listing = client.get("/users/").content.decode()
    assert "alpha-bio-cdmo_planner" not in listing
    assert "beta-pharma-cdmo_planner" in listing
    planner.refresh_from_db()
    assert planner.role == "cdmo_planner"
    assert planner.is_active
    with pytest.raises(Http404):
        services.change_role(world.user("beta-pharma", "cdmo_admin"), planner, "cdmo_qa", "x")


def test_role_change_is_audited_with_its_reason(world: Any, client_for: Any) -> None:
    """Planner → MSAT: one entry with old and new role and the reason, in the CDMO's chain."""
    admin = world.user("alpha-bio", "cdmo_admin")
    planner = world.user("alpha-bio", "cdmo_planner")
    response = client_for(admin).post(
        f"/users/{planner.pk}/role/", {"role": "cdmo_msat", "reason": "Moved to MSAT"}
    )
    assert response.status_code == 302
    planner.refresh_from_db()
    assert planner.role == "cdmo_msat"
    [entry] = _entries("opencdmo.user.role_changed")
    assert entry.before == {"role": "cdmo_planner"}
    assert entry.after == {"role": "cdmo_msat"}
    assert entry.reason == "Moved to MSAT"
    assert entry.organisation_id == world.orgs["alpha-bio"].pk


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"role": "sponsor_qa", "reason": "x"}, "role"),
        ({"role": "cdmo_qa", "reason": ""}, "reason"),
    ],
)
def test_bad_role_change_names_the_field_and_changes_nothing(
    world: Any, client_for: Any, data: dict[str, str], field: str
) -> None:
    planner = world.user("alpha-bio", "cdmo_planner")
    response = client_for(world.user("alpha-bio", "cdmo_admin")).post(
        f"/users/{planner.pk}/role/", data
    )
    assert response.status_code == 400
    assert f'id="role_{field}-errors"' in response.content.decode()
    planner.refresh_from_db()
    assert planner.role == "cdmo_planner"
    assert _entries("opencdmo.user.role_changed") == []


def test_service_refuses_a_role_of_another_organisation_kind(world: Any) -> None:
    """The service checks the role against the organisation's kind too (User.clean)."""
    planner = world.user("alpha-bio", "cdmo_planner")
    with pytest.raises(ValidationError) as caught:
        services.change_role(world.user("alpha-bio", "cdmo_admin"), planner, "sponsor_qa", "x")
    assert "role" in caught.value.message_dict
    planner.refresh_from_db()
    assert planner.role == "cdmo_planner"


def test_the_last_active_admin_can_neither_deactivate_nor_demote_themself(
    world: Any, client_for: Any
) -> None:
    """Alpha's only administrator stays one; with a second administrator, demotion works."""
    admin = world.user("alpha-bio", "cdmo_admin")
    client = client_for(admin)
    refused = client.post(f"/users/{admin.pk}/active/", {"active": "0", "reason": "Leaving"})
    assert refused.status_code == 400
    assert "last active administrator" in refused.content.decode()
    demote = client.post(f"/users/{admin.pk}/role/", {"role": "cdmo_qa", "reason": "Less work"})
    assert demote.status_code == 400
    assert "last active administrator" in demote.content.decode()
    admin.refresh_from_db()
    assert admin.is_active
    assert admin.role == "cdmo_admin"
    assert _entries("opencdmo.user.deactivated") == []

    services.change_role(admin, world.user("alpha-bio", "cdmo_qa"), "cdmo_admin", "Deputy")
    assert (
        client.post(
            f"/users/{admin.pk}/role/", {"role": "cdmo_qa", "reason": "Hand over"}
        ).status_code
        == 302
    )
    admin.refresh_from_db()
    assert admin.role == "cdmo_qa"


def test_deactivated_user_cannot_sign_in_until_reactivated(world: Any, client_for: Any) -> None:
    """Deactivation and reactivation each leave an entry with the reason."""
    from tests.conftest import PASSWORD

    admin = world.user("alpha-bio", "cdmo_admin")
    planner = world.user("alpha-bio", "cdmo_planner")
    client = client_for(admin)
    open_session = client_for(planner)
    assert (
        client.post(f"/users/{planner.pk}/active/", {"active": "0", "reason": "Left"}).status_code
        == 302
    )
    assert open_session.get("/")["Location"].startswith("/login/")
    login = {"username": planner.username, "password": PASSWORD}
    assert Client().post("/login/", login).status_code == 200
    assert (
        client.post(f"/users/{planner.pk}/active/", {"active": "1", "reason": "Back"}).status_code
        == 302
    )
    assert Client().post("/login/", login).status_code == 302
    [off] = _entries("opencdmo.user.deactivated")
    [on] = _entries("opencdmo.user.reactivated")
    assert (off.before, off.after, off.reason) == (
        {"is_active": True},
        {"is_active": False},
        "Left",
    )
    assert (on.after, on.reason) == ({"is_active": True}, "Back")


def test_platform_admin_manages_users_of_any_organisation(world: Any, client_for: Any) -> None:
    """The platform administrator lists, invites into and changes any organisation's users."""
    platform = world.user("platform", "platform_admin")
    client = client_for(platform)
    listing = client.get("/users/").content.decode()
    assert "alpha-bio-cdmo_planner" in listing
    assert "sponsor-two-sponsor_qa" in listing
    data = _invite_data(role="sponsor_viewer", organisation=str(world.orgs["sponsor-one"].pk))
    assert client.post("/users/invite/", data).status_code == 200
    invited = _user("ines.okafor")
    assert invited is not None
    assert invited.organisation == world.orgs["sponsor-one"]
    planner = world.user("beta-pharma", "cdmo_planner")
    assert (
        client.post(f"/users/{planner.pk}/role/", {"role": "cdmo_qa", "reason": "x"}).status_code
        == 302
    )
    [entry] = _entries("opencdmo.user.role_changed")
    assert entry.organisation_id == world.orgs["beta-pharma"].pk
    assert entry.actor_id == platform.pk


def test_manage_users_permission_is_checked_by_the_service(world: Any) -> None:
    """Pages are not the only door: the service itself refuses a planner."""
    with pytest.raises(PermissionDenied):
        services.invite_user(
            world.user("alpha-bio", "cdmo_planner"),
            organisation=world.orgs["alpha-bio"],
            username="x",
            email="x@example.org",
            role="cdmo_qa",
            reason="x",
        )


def test_a_new_link_is_offered_only_until_a_password_is_set(world: Any, client_for: Any) -> None:
    """Someone who already has a password gets no link; an invited person does."""
    admin = world.user("alpha-bio", "cdmo_admin")
    client = client_for(admin)
    planner = world.user("alpha-bio", "cdmo_planner")
    refused = client.post(f"/users/{planner.pk}/link/", follow=True)
    assert b"already set a password" in refused.content
    assert b'data-testid="set-password-link"' not in refused.content
    invited, _ = services.invite_user(
        admin,
        organisation=world.orgs["alpha-bio"],
        username="new.one",
        email="n@example.org",
        role="cdmo_qa",
        reason="x",
    )
    page = client.post(f"/users/{invited.pk}/link/")
    assert _link(page).startswith("/account/set-password/")
