"""User management and API tokens write through the core's audited services: who may is read
from the declarations, entries record no secrets, and a refused write leaves nothing behind."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django_scopes import scopes_disabled

from opencdmo.accounts import services
from opencdmo.accounts.models import ApiToken, User
from opencdmo.accounts.roles import MANAGE_USERS_OF_ANY_ORG, PERMISSIONS, Role
from opencdmo.audit.models import AuditEntry
from opencdmo.core.tenancy import tenancy_of

NEW_PASSWORD = "a-long-first-passphrase-7"


def _entries(action: str) -> list[AuditEntry]:
    with scopes_disabled():
        return list(AuditEntry.objects.filter(action=action).order_by("seq"))


def _invite(actor: Any, organisation: Any, username: str = "new.one") -> User:
    user, _ = services.invite_user(
        actor,
        organisation=organisation,
        username=username,
        email=f"{username}@example.org",
        role="cdmo_qa" if organisation.is_cdmo else "sponsor_viewer",
        reason="Joined",
    )
    return user


def test_only_the_platform_administrator_curates_every_organisations_users() -> None:
    """User's declaration names the any-organisation permission, and one role holds it."""
    assert tenancy_of(User).curate == MANAGE_USERS_OF_ANY_ORG
    holders = [role for role, held in PERMISSIONS.items() if MANAGE_USERS_OF_ANY_ORG in held]
    assert holders == [Role.PLATFORM_ADMIN]


def test_platform_admin_changes_a_sponsor_users_role_in_the_sponsors_chain(
    world: Any, client_for: Any
) -> None:
    """A sponsor has no administrator of its own, so the last-administrator rule stays quiet."""
    platform = world.user("platform", "platform_admin")
    viewer = world.user("sponsor-one", "sponsor_viewer")
    response = client_for(platform).post(
        f"/users/{viewer.pk}/role/", {"role": "sponsor_qa", "reason": "Now audits suppliers"}
    )
    assert response.status_code == 302
    viewer.refresh_from_db()
    assert viewer.role == "sponsor_qa"
    [entry] = _entries("opencdmo.user.role_changed")
    assert (entry.organisation_id, entry.actor_id) == (world.orgs["sponsor-one"].pk, platform.pk)


def test_platform_admin_lists_one_organisations_users_a_cdmo_admin_only_its_own(
    world: Any, client_for: Any
) -> None:
    """The organisation filter follows the declaration: curator anywhere, owner at home."""
    platform = client_for(world.user("platform", "platform_admin"))
    listing = platform.get("/users/?organisation=sponsor-two").content.decode()
    assert "sponsor-two-sponsor_qa" in listing
    assert "alpha-bio-cdmo_planner" not in listing
    admin = client_for(world.user("alpha-bio", "cdmo_admin"))
    assert admin.get("/users/?organisation=alpha-bio").status_code == 200
    assert admin.get("/users/?organisation=sponsor-two").status_code == 404
    assert admin.get("/users/?organisation=no-such-org").status_code == 404


def test_unchanged_role_or_state_writes_no_entry(world: Any) -> None:
    """Saying again what is already so changes nothing and is not audited."""
    admin = world.user("alpha-bio", "cdmo_admin")
    planner = world.user("alpha-bio", "cdmo_planner")
    services.change_role(admin, planner, "cdmo_planner", "Same again")
    services.set_active(admin, planner, True, "Still here")
    assert _entries("opencdmo.user.role_changed") == []
    assert _entries("opencdmo.user.reactivated") == []


def test_deactivating_the_last_admin_is_refused_on_is_active(world: Any) -> None:
    """The rule names the field the change would break; the user stays active."""
    admin = world.user("alpha-bio", "cdmo_admin")
    with pytest.raises(ValidationError) as caught:
        services.set_active(admin, admin, False, "Leaving")
    assert "last active administrator" in " ".join(caught.value.message_dict["is_active"])
    admin.refresh_from_db()
    assert admin.is_active


def test_promoting_to_platform_admin_is_refused_for_a_cdmo(world: Any) -> None:
    """The platform's role belongs to the platform organisation alone."""
    planner = world.user("alpha-bio", "cdmo_planner")
    with pytest.raises(ValidationError) as caught:
        services.change_role(
            world.user("platform", "platform_admin"), planner, "platform_admin", "x"
        )
    assert "role" in caught.value.message_dict
    planner.refresh_from_db()
    assert (planner.role, planner.is_staff) == ("cdmo_planner", False)


def test_invite_entry_records_the_person_and_no_password(world: Any) -> None:
    """The invited entry has the user's fields; a password hash never reaches the trail."""
    user = _invite(world.user("alpha-bio", "cdmo_admin"), world.orgs["alpha-bio"])
    [entry] = _entries("opencdmo.user.invited")
    assert entry.after["username"] == user.username
    assert entry.after["email"] == "new.one@example.org"
    assert "password" not in entry.after


def test_first_password_is_set_once_by_the_person_themself(world: Any) -> None:
    """The entry says not set → set, and since when; a second call and anyone else are
    refused."""
    admin = world.user("alpha-bio", "cdmo_admin")
    user = _invite(admin, world.orgs["alpha-bio"])
    with pytest.raises(PermissionDenied):
        services.PASSWORD.authorise(admin, user)
    services.set_own_password(user, NEW_PASSWORD)
    [entry] = _entries("opencdmo.user.password_set")
    user.refresh_from_db()
    assert (entry.actor_id, entry.before, entry.after) == (
        user.pk,
        {"password": "not set", "password_changed_at": None},
        {"password": "set", "password_changed_at": user.password_changed_at.isoformat()},
    )
    with pytest.raises(ValidationError) as caught:
        services.set_own_password(user, NEW_PASSWORD + "-again")
    assert "password" in caught.value.message_dict
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert len(_entries("opencdmo.user.password_set")) == 1


def test_token_entries_record_no_digest(world: Any) -> None:
    """Creation records name, prefix and user; revocation only when it was revoked."""
    user = world.user("alpha-bio", "cdmo_planner")
    token, _ = services.issue_token(user, "  MES  ")
    services.revoke_token(user, token, "MES retired")
    [created] = _entries("opencdmo.api_token.created")
    [revoked] = _entries("opencdmo.api_token.revoked")
    assert created.after["name"] == "MES"
    assert created.after["user"] == user.username
    assert created.after["prefix"] == token.prefix
    assert token.digest not in str(created.after)
    assert list(revoked.before) == list(revoked.after) == ["revoked_at"]
    assert (revoked.before["revoked_at"], revoked.reason) == (None, "MES retired")


def test_a_colleagues_token_answers_like_a_missing_one(world: Any, client_for: Any) -> None:
    """Tokens act as their user: someone of the same organisation cannot revoke one."""
    owner = world.user("alpha-bio", "cdmo_planner")
    token, _ = services.issue_token(owner, "LIMS")
    colleague = world.user("alpha-bio", "cdmo_admin")
    assert client_for(colleague).post(f"/account/tokens/{token.pk}/revoke/").status_code == 404
    with pytest.raises(Http404):
        services.revoke_token(colleague, token)
    token.refresh_from_db()
    assert token.is_active
    assert _entries("opencdmo.api_token.revoked") == []


def test_revoking_twice_writes_one_entry(world: Any) -> None:
    """A token already revoked stays as it was, with its first revocation time."""
    user = world.user("sponsor-one", "sponsor_qa")
    token, _ = services.issue_token(user, "export")
    first = services.revoke_token(user, token).revoked_at
    assert services.revoke_token(user, token).revoked_at == first
    assert len(_entries("opencdmo.api_token.revoked")) == 1


def test_empty_revocation_reason_is_refused_and_the_token_stays(world: Any) -> None:
    """Where a reason is asked for, an empty one is an error on 'reason'."""
    user = world.user("sponsor-one", "sponsor_qa")
    token, _ = services.issue_token(user, "export")
    with pytest.raises(ValidationError) as caught:
        services.revoke_token(user, token, "  ")
    assert "reason" in caught.value.message_dict
    with scopes_disabled():
        assert ApiToken.objects.get(pk=token.pk).is_active
