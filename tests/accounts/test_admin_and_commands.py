"""Organisation and user changes in the admin are audited; ``opencdmo createuser`` validates."""

from __future__ import annotations

from typing import Any

import pytest
from django_scopes import scopes_disabled

from opencdmo.accounts.models import User
from opencdmo.audit.models import AuditEntry


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
