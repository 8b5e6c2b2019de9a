"""`opencdmo token`: tokens for scripts, issued and revoked through the page's services."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django_scopes import scopes_disabled

from opencdmo.accounts.models import ApiToken
from opencdmo.audit.models import AuditEntry


def _me(secret: str) -> Any:
    return Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}")


def _entries(action: str) -> list[AuditEntry]:
    with scopes_disabled():
        return list(AuditEntry.objects.filter(action=action).order_by("seq"))


def test_create_prints_only_a_working_secret(opencdmo_cli: Any, world: Any, capsys: Any) -> None:
    """stdout is the secret alone, so a script can capture it; it authenticates as the user."""
    user = world.user("alpha-bio", "cdmo_planner")
    status = opencdmo_cli(["token", "create", user.username, "--name", "MES integration"])
    out, err = capsys.readouterr()
    assert status == 0, err
    secret = out.strip()
    assert secret.startswith("ocd_")
    assert "\n" not in secret
    assert "MES integration" in err
    assert _me(secret).json()["username"] == user.username


def test_create_is_audited_like_the_page(opencdmo_cli: Any, world: Any, capsys: Any) -> None:
    """One opencdmo.api_token.created entry in the user's chain, the user as actor."""
    user = world.user("sponsor-one", "sponsor_manager")
    assert opencdmo_cli(["token", "create", user.username, "--name", "nightly export"]) == 0
    (entry,) = _entries("opencdmo.api_token.created")
    assert entry.actor_id == user.pk
    assert entry.organisation_id == user.organisation_id
    assert entry.after["name"] == "nightly export"
    assert entry.reason == "Created with opencdmo token create"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["create", "nobody", "--name", "x"], "No user 'nobody'."),
        (["create", "alpha-bio-cdmo_qa", "--name", "  "], "--name: Give the token a name"),
        (["revoke", "ocd_nothing", "--reason", "gone"], "No API token with prefix 'ocd_nothing'."),
        (["list", "nobody"], "No user 'nobody'."),
    ],
)
def test_bad_input_is_refused_and_nothing_written(
    opencdmo_cli: Any, world: Any, capsys: Any, argv: list[str], message: str
) -> None:
    """Unknown users, empty names and unknown prefixes exit 1 with the field named."""
    assert opencdmo_cli(["token", *argv]) == 1
    assert message in capsys.readouterr().err
    with scopes_disabled():
        assert not ApiToken.objects.exists()
    assert _entries("opencdmo.api_token.created") == []


def test_inactive_user_gets_no_token(opencdmo_cli: Any, world: Any, capsys: Any) -> None:
    """A token for an inactive user would be refused at once, so none is made; lists work."""
    user = world.user("beta-pharma", "cdmo_msat")
    user.is_active = False
    user.save()
    assert opencdmo_cli(["token", "create", user.username, "--name", "x"]) == 1
    assert "is inactive" in capsys.readouterr().err
    assert opencdmo_cli(["token", "list", user.username]) == 0, "listing stays possible"


def test_list_then_revoke_by_prefix(opencdmo_cli: Any, world: Any, capsys: Any) -> None:
    """The listed prefix revokes the token: audited with the reason, refused by the API."""
    user = world.user("alpha-bio", "cdmo_qa")
    opencdmo_cli(["token", "create", user.username, "--name", "LIMS"])
    secret = capsys.readouterr().out.strip()
    opencdmo_cli(["token", "list", user.username])
    listing = capsys.readouterr().out
    assert "LIMS" in listing
    assert listing.rstrip().endswith("active")
    assert secret not in listing
    prefix = listing.split()[0]

    assert opencdmo_cli(["token", "revoke", prefix, "--reason", "LIMS replaced"]) == 0
    assert "Revoked API token 'LIMS'" in capsys.readouterr().out
    (entry,) = _entries("opencdmo.api_token.revoked")
    assert (entry.actor_id, entry.reason) == (user.pk, "LIMS replaced")
    assert _me(secret).status_code == 401
    opencdmo_cli(["token", "list", user.username])
    assert "revoked" in capsys.readouterr().out
    assert opencdmo_cli(["token", "revoke", prefix, "--reason", "again"]) == 1
    assert "already revoked" in capsys.readouterr().err


def test_list_says_when_there_are_none(opencdmo_cli: Any, world: Any, capsys: Any) -> None:
    """An empty list is a sentence, not silence."""
    user = world.user("sponsor-two", "sponsor_qa")
    assert opencdmo_cli(["token", "list", user.username]) == 0
    assert capsys.readouterr().out.strip() == f"{user.username} has no API tokens."


def test_empty_revocation_reason_names_the_option(
    opencdmo_cli: Any, world: Any, capsys: Any
) -> None:
    """--reason '' exits 1 naming --reason; the token stays active and nothing is audited."""
    user = world.user("alpha-bio", "cdmo_qa")
    opencdmo_cli(["token", "create", user.username, "--name", "LIMS"])
    secret = capsys.readouterr().out.strip()
    with scopes_disabled():
        prefix = ApiToken.objects.get().prefix
    assert opencdmo_cli(["token", "revoke", prefix, "--reason", "  "]) == 1
    assert "--reason: Give a reason" in capsys.readouterr().err
    assert _me(secret).status_code == 200
    assert _entries("opencdmo.api_token.revoked") == []


def test_a_deactivated_users_token_is_revoked_by_the_system(
    opencdmo_cli: Any, world: Any, capsys: Any
) -> None:
    """Its user holds no permission any more, so the entry names no actor; it is revoked."""
    user = world.user("beta-pharma", "cdmo_msat")
    opencdmo_cli(["token", "create", user.username, "--name", "historian"])
    capsys.readouterr()
    user.is_active = False
    user.save()
    with scopes_disabled():
        prefix = ApiToken.objects.get().prefix
    assert opencdmo_cli(["token", "revoke", prefix, "--reason", "Left the company"]) == 0
    (entry,) = _entries("opencdmo.api_token.revoked")
    assert (entry.actor_id, entry.reason) == (None, "Left the company")
    with scopes_disabled():
        assert not ApiToken.objects.get().is_active
