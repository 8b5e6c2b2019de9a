"""Organisation and user changes in the admin go through the audited services, password sets
included; ``opencdmo createuser`` validates."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled

from opencdmo.accounts.models import User
from opencdmo.audit.models import AuditEntry
from tests.conftest import PASSWORD


def _entries(action: str) -> list[AuditEntry]:
    with scopes_disabled():
        return list(AuditEntry.objects.filter(action=action).order_by("seq"))


def test_admin_user_change_is_audited_with_reason(world: Any, client_for: Any) -> None:
    """Deactivating a user in the admin leaves one entry with old → new and the reason."""
    admin = client_for(world.user("platform", "platform_admin"))
    target = world.user("sponsor-one", "sponsor_viewer")
    page = admin.get(f"/admin/accounts/user/{target.pk}/change/")
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update(
        is_active="",
        reason="Left the company",
        date_joined_0="2026-01-01",
        date_joined_1="00:00:00",
    )
    data = {
        k: v
        for k, v in data.items()
        if k not in {"is_active", "password", "groups", "user_permissions"}
    }
    response = admin.post(f"/admin/accounts/user/{target.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    [entry] = _entries("opencdmo.user.changed")
    assert entry.reason == "Left the company"
    assert entry.before == {"is_active": True}
    assert entry.after == {"is_active": False}
    assert entry.organisation_id == world.orgs["sponsor-one"].pk


def test_admin_save_without_reason_is_refused(world: Any, client_for: Any) -> None:
    """No reason, no change."""
    admin = client_for(world.user("platform", "platform_admin"))
    org = world.orgs["beta-pharma"]
    response = admin.post(
        f"/admin/accounts/organisation/{org.pk}/change/",
        {"name": "Renamed", "slug": org.slug, "kind": "cdmo", "reason": ""},
    )
    assert response.status_code == 200
    org.refresh_from_db()
    assert org.name == "Beta Pharma"
    assert _entries("opencdmo.organisation.changed") == []


def test_createuser_command_creates_an_audited_user(opencdmo_cli: Any, world: Any) -> None:
    """The command creates the user with the role and records it."""
    status = opencdmo_cli(
        [
            "createuser",
            "new.planner",
            "--organisation",
            "alpha-bio",
            "--role",
            "cdmo_planner",
            "--password",
            "a-long-enough-passphrase",
        ]
    )
    assert status == 0
    assert User.objects.get(username="new.planner").role == "cdmo_planner"
    assert _entries("opencdmo.user.created")[-1].object_repr == "new.planner"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--organisation", "sponsor-one", "--role", "cdmo_planner"],
            "does not exist for a sponsor",
        ),
        (["--organisation", "nowhere", "--role", "cdmo_planner"], "No organisation 'nowhere'"),
    ],
)
def test_createuser_refuses_bad_input(
    opencdmo_cli: Any, world: Any, capsys: Any, argv: list[str], message: str
) -> None:
    """A role of the wrong kind or an unknown organisation exits 1 with the reason."""
    status = opencdmo_cli(["createuser", "x.user", *argv, "--password", "a-long-enough-passphrase"])
    assert status == 1
    assert message in capsys.readouterr().err
    assert not User.objects.filter(username="x.user").exists()


def _change_data(admin: Any, user: User) -> dict[str, Any]:
    """The admin's change form for ``user`` as it would be posted unchanged."""
    form = admin.get(f"/admin/accounts/user/{user.pk}/change/").context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.pop("password", None)
    return data


def test_admin_user_change_goes_through_the_services_rules(world: Any, client_for: Any) -> None:
    """The last active administrator of a CDMO cannot be deactivated in the admin either:
    the form says why and nothing changes."""
    admin = client_for(world.user("platform", "platform_admin"))
    last = world.user("alpha-bio", "cdmo_admin")
    data = _change_data(admin, last)
    data.pop("is_active")
    data["reason"] = "Leaving"
    response = admin.post(f"/admin/accounts/user/{last.pk}/change/", data)
    assert response.status_code == 200
    assert "last active administrator" in response.content.decode()
    last.refresh_from_db()
    assert last.is_active
    assert _entries("opencdmo.user.changed") == []


def test_admin_can_lift_a_lock_audited(world: Any, client_for: Any) -> None:
    """Clearing 'locked until' is a change like any other: reason and old → new recorded."""
    admin = client_for(world.user("platform", "platform_admin"))
    user = world.user("sponsor-one", "sponsor_qa")
    User.objects.filter(pk=user.pk).update(locked_until=timezone.now() + timedelta(minutes=9))
    data = _change_data(admin, user)
    data.update(locked_until_0="", locked_until_1="", reason="Verified by phone")
    response = admin.post(f"/admin/accounts/user/{user.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    user.refresh_from_db()
    assert user.locked_until is None
    [entry] = _entries("opencdmo.user.changed")
    assert entry.after == {"locked_until": None}
    assert entry.before["locked_until"] is not None
    assert entry.reason == "Verified by phone"


def test_admin_user_creation_and_deletion_are_audited(world: Any, client_for: Any) -> None:
    """Adding a user needs a reason and leaves 'created'; deleting leaves 'deleted'."""
    admin = client_for(world.user("platform", "platform_admin"))
    response = admin.post(
        "/admin/accounts/user/add/",
        {
            "username": "added.in.admin",
            "organisation": world.orgs["beta-pharma"].pk,
            "role": "cdmo_qa",
            "password1": "a-long-enough-passphrase",
            "password2": "a-long-enough-passphrase",
            "reason": "New QA lead",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    added = User.objects.get(username="added.in.admin")
    assert added.check_password("a-long-enough-passphrase")
    [created] = _entries("opencdmo.user.created")
    assert (created.reason, created.organisation_id) == (
        "New QA lead",
        world.orgs["beta-pharma"].pk,
    )
    assert "password" not in created.after
    confirmation = admin.get(f"/admin/accounts/user/{added.pk}/delete/").content.decode()
    assert 'name="reason"' in confirmation
    response = admin.post(f"/admin/accounts/user/{added.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert User.objects.filter(pk=added.pk).exists()
    assert _entries("opencdmo.user.deleted") == []
    response = admin.post(
        f"/admin/accounts/user/{added.pk}/delete/", {"post": "yes", "reason": "Left the company"}
    )
    assert response.status_code == 302
    assert not User.objects.filter(pk=added.pk).exists()
    [deleted] = _entries("opencdmo.user.deleted")
    assert deleted.before["username"] == "added.in.admin"
    assert deleted.reason == "Left the company"


def test_admin_password_set_is_audited_without_the_hash(world: Any, client_for: Any) -> None:
    """The reproduction's form, used by the platform administrator with a session: the
    entry says who set whose password and why; no hash reaches the trail."""
    platform_admin = world.user("platform", "platform_admin")
    admin = client_for(platform_admin)
    target = world.user("sponsor-one", "sponsor_manager")
    form_page = admin.get(f"/admin/accounts/user/{target.pk}/password/")
    assert b'name="reason"' in form_page.content
    response = admin.post(
        f"/admin/accounts/user/{target.pk}/password/",
        {
            "password1": "reset-by-the-admin-2026",
            "password2": "reset-by-the-admin-2026",
            "usable_password": "true",
            "set-password": "1",
            "reason": "Forgot password, identity checked by phone",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    target.refresh_from_db()
    assert target.check_password("reset-by-the-admin-2026")
    [entry] = _entries("opencdmo.user.password_set_by_administrator")
    assert entry.actor_id == platform_admin.pk
    assert entry.object_id == str(target.pk)
    assert entry.organisation_id == target.organisation_id
    assert entry.reason == "Forgot password, identity checked by phone"
    assert target.password not in f"{entry.before} {entry.after}"
    assert set(entry.after) <= {"password", "password_changed_at"}


def test_admin_password_set_without_reason_is_refused(world: Any, client_for: Any) -> None:
    """No reason, no new password, no entry."""
    admin = client_for(world.user("platform", "platform_admin"))
    target = world.user("sponsor-one", "sponsor_manager")
    response = admin.post(
        f"/admin/accounts/user/{target.pk}/password/",
        {
            "password1": "reset-by-the-admin-2026",
            "password2": "reset-by-the-admin-2026",
            "usable_password": "true",
            "set-password": "1",
            "reason": "",
        },
    )
    assert response.status_code == 200
    target.refresh_from_db()
    assert target.check_password(PASSWORD)
    assert _entries("opencdmo.user.password_set_by_administrator") == []


@pytest.mark.parametrize(
    "path",
    ["/admin/audit/auditentry/", "/admin/accounts/user/", "/admin/network/site/"],
)
def test_admin_change_lists_carry_no_inline_style(world: Any, client_for: Any, path: str) -> None:
    """The Content-Security-Policy refuses inline styles; the admin's lists need none."""
    response = client_for(world.user("platform", "platform_admin")).get(path)
    assert response.status_code == 200
    page = response.content.decode()
    assert "<style" not in page
    assert 'style="' not in page
