"""API tokens count on /api/ only, carry a scope (read or write) and may expire."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.utils import timezone
from django_scopes import scopes_disabled

from opencdmo.accounts import services
from opencdmo.accounts.models import ApiToken
from opencdmo.accounts.tokens import format_utc
from opencdmo.network.models import Suite
from tests.conftest import PASSWORD


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _patch_suite(secret: str, suite: Suite, status: str = "maintenance") -> Any:
    return Client().patch(
        f"/api/v1/suites/{suite.pk}",
        data=json.dumps({"status": status, "reason": "Token scope check"}),
        content_type="application/json",
        headers=_bearer(secret),
    )


def _stored_status(suite: Suite) -> str:
    with scopes_disabled():
        return Suite.objects.get(pk=suite.pk).status


# --- a token counts on /api/ and nowhere else ----------------------------------------------


def test_a_token_does_not_open_the_token_page(world: Any) -> None:
    """The reproduction: with a token one could read the token page and make a new token.

    Outside /api/ the header is ignored: the page redirects to the login as for anyone
    unknown, and a POST creates nothing.
    """
    user = world.user("alpha-bio", "cdmo_planner")
    _, secret = services.issue_token(user, "MES", scope="write")
    client = Client()
    page = client.get("/account/tokens/", headers=_bearer(secret))
    assert page.status_code == 302
    assert page["Location"].startswith("/login/")
    made = client.post(
        "/account/tokens/", {"name": "minted", "scope": "write"}, headers=_bearer(secret)
    )
    assert made.status_code == 302
    assert made["Location"].startswith("/login/")
    with scopes_disabled():
        assert list(ApiToken.objects.filter(user=user).values_list("name", flat=True)) == ["MES"]


def test_the_platform_admins_token_cannot_set_a_password_in_the_admin(world: Any) -> None:
    """The reproduction: the platform admin's token set any user's password in the admin.

    The admin needs a password session; with only a token it answers as for an anonymous
    caller and the password stays as it was.
    """
    admin = world.user("platform", "platform_admin")
    victim = world.user("sponsor-one", "sponsor_manager")
    _, secret = services.issue_token(admin, "ops", scope="write")
    client = Client()
    index = client.get("/admin/", headers=_bearer(secret))
    assert index.status_code == 302
    assert index["Location"].startswith("/login/")
    response = client.post(
        f"/admin/accounts/user/{victim.pk}/password/",
        {
            "password1": "taken-over-1234",
            "password2": "taken-over-1234",
            "usable_password": "true",
            "set-password": "1",
            "reason": "x",
        },
        headers=_bearer(secret),
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    victim.refresh_from_db()
    assert victim.check_password(PASSWORD)
    assert not victim.check_password("taken-over-1234")


def test_a_token_beside_a_session_does_not_change_who_the_page_sees(
    world: Any, client_for: Any
) -> None:
    """A signed-in page stays its session user's, whatever bearer header comes with it."""
    planner = world.user("alpha-bio", "cdmo_planner")
    _, admin_secret = services.issue_token(world.user("platform", "platform_admin"), "ops")
    page = client_for(planner).get("/account/tokens/", headers=_bearer(admin_secret))
    assert page.status_code == 200
    assert page.context["user"] == planner


# --- scopes ---------------------------------------------------------------------------------


def test_a_read_token_reads(world: Any) -> None:
    """GET works with a read token."""
    user = world.user("alpha-bio", "cdmo_planner")
    _, secret = services.issue_token(user, "dashboard", scope="read")
    response = Client().get("/api/v1/me", headers=_bearer(secret))
    assert response.status_code == 200
    assert response.json()["username"] == user.username


@pytest.mark.parametrize("method", ["post", "patch", "put", "delete"])
def test_a_read_token_is_refused_every_change_with_403(world: Any, method: str) -> None:
    """POST, PATCH, PUT and DELETE with a read token answer 403 saying it is read-only."""
    suite = world.suites["alpha-bio"]
    _, secret = services.issue_token(world.user("alpha-bio", "cdmo_planner"), "ro", scope="read")
    response = getattr(Client(), method)(
        f"/api/v1/suites/{suite.pk}",
        data=json.dumps({"status": "maintenance", "reason": "Token scope check"}),
        content_type="application/json",
        headers=_bearer(secret),
    )
    assert response.status_code == 403
    assert response.json() == {
        "detail": "This API token is read-only: it may only read (GET, HEAD, OPTIONS)."
    }
    assert _stored_status(suite) == "operational"


def test_a_write_token_changes_what_the_role_allows(world: Any) -> None:
    """A write token PATCHes a suite of its user's CDMO."""
    suite = world.suites["alpha-bio"]
    _, secret = services.issue_token(world.user("alpha-bio", "cdmo_planner"), "MES", scope="write")
    assert _patch_suite(secret, suite).status_code == 200
    assert _stored_status(suite) == "maintenance"


def test_a_write_token_gains_nothing_over_its_role(world: Any) -> None:
    """A sponsor's write token is still refused a CDMO's suite: the scope narrows, never widens."""
    suite = world.suites["alpha-bio"]
    _, secret = services.issue_token(world.user("sponsor-one", "sponsor_manager"), "x")
    assert _patch_suite(secret, suite).status_code == 403
    assert _stored_status(suite) == "operational"


def test_an_unknown_scope_is_refused_by_name(world: Any) -> None:
    """The service names the field and creates nothing."""
    user = world.user("alpha-bio", "cdmo_qa")
    with pytest.raises(ValidationError, match="Unknown scope 'admin'") as caught:
        services.issue_token(user, "x", scope="admin")
    assert "scope" in caught.value.message_dict
    with scopes_disabled():
        assert not ApiToken.objects.filter(user=user).exists()


# --- expiry ---------------------------------------------------------------------------------


def test_an_expired_token_answers_401_with_the_date(world: Any) -> None:
    """Once past expires_at the token is refused with the moment it expired."""
    token, secret = services.issue_token(
        world.user("alpha-bio", "cdmo_qa"), "lims", expires_in_days=7
    )
    assert Client().get("/api/v1/me", headers=_bearer(secret)).status_code == 200
    expired = timezone.now() - timedelta(minutes=1)
    with scopes_disabled():
        ApiToken.objects.filter(pk=token.pk).update(expires_at=expired)
    response = Client().get("/api/v1/me", headers=_bearer(secret))
    assert response.status_code == 401
    assert response.json() == {"detail": f"This API token expired on {format_utc(expired)}."}


@pytest.mark.parametrize("days", [0, -1, 3651])
def test_an_expiry_outside_one_day_to_ten_years_is_refused(world: Any, days: int) -> None:
    """expires_in_days is named in the error and nothing is created."""
    user = world.user("alpha-bio", "cdmo_qa")
    with pytest.raises(ValidationError, match="from 1 to 3650") as caught:
        services.issue_token(user, "x", expires_in_days=days)
    assert "expires_in_days" in caught.value.message_dict
    with scopes_disabled():
        assert not ApiToken.objects.filter(user=user).exists()


# --- the page and the command ---------------------------------------------------------------


def test_the_page_creates_a_read_token_by_default_and_lists_scope_and_expiry(
    world: Any, client_for: Any
) -> None:
    """The form starts at read only and 90 days; the list shows scope, expiry and last use."""
    user = world.user("alpha-bio", "cdmo_planner")
    client = client_for(user)
    form = client.get("/account/tokens/").context["form"]
    assert (form["scope"].value(), form["expires_in_days"].value()) == ("read", "90")
    response = client.post(
        "/account/tokens/", {"name": "ERP", "scope": "write", "expires_in_days": "30"}
    )
    assert response.status_code == 200
    with scopes_disabled():
        token = ApiToken.objects.get(user=user)
    assert token.scope == "write"
    assert token.expires_at is not None
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    Client().get("/api/v1/me", headers=_bearer(response.context["new_secret"]))
    page = client.get("/account/tokens/").content.decode()
    assert "read and write" in page
    assert token.expires_at.strftime("%Y-%m-%d %H:%M") in page
    assert timezone.now().strftime("%Y-%m-%d") in page.split("ERP", 1)[1]


def test_the_page_creates_a_token_that_never_expires_when_asked(
    world: Any, client_for: Any
) -> None:
    """The empty expiry choice means until revoked."""
    user = world.user("sponsor-one", "sponsor_qa")
    client_for(user).post(
        "/account/tokens/", {"name": "BI", "scope": "read", "expires_in_days": ""}
    )
    with scopes_disabled():
        token = ApiToken.objects.get(user=user)
    assert (token.scope, token.expires_at) == ("read", None)


def test_the_page_shows_an_expired_token_as_expired(world: Any, client_for: Any) -> None:
    """An expired token is marked so in the list."""
    user = world.user("sponsor-one", "sponsor_qa")
    token, _ = services.issue_token(user, "old", expires_in_days=1)
    with scopes_disabled():
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(days=1))
    assert (
        b'<span class="badge bad">expired</span>'
        in client_for(user).get("/account/tokens/").content
    )


def test_token_create_takes_scope_and_expiry(opencdmo_cli: Any, world: Any, capsys: Any) -> None:
    """--scope write --expires-in-days 30 makes such a token; the list shows both."""
    user = world.user("alpha-bio", "cdmo_planner")
    argv = ["token", "create", user.username, "--name", "MES", "--scope", "write"]
    assert opencdmo_cli([*argv, "--expires-in-days", "30"]) == 0
    out, err = capsys.readouterr()
    assert "write" in err
    with scopes_disabled():
        token = ApiToken.objects.get(user=user)
    assert token.scope == "write"
    assert token.expires_at is not None
    assert _patch_suite(out.strip(), world.suites["alpha-bio"]).status_code == 200
    assert opencdmo_cli(["token", "list", user.username]) == 0
    listing = capsys.readouterr().out
    assert "MES  write  created" in listing
    assert f"expires {format_utc(token.expires_at)}" in listing


def test_token_create_is_read_only_unless_asked(opencdmo_cli: Any, world: Any, capsys: Any) -> None:
    """Without --scope the command makes a read token that never expires."""
    user = world.user("alpha-bio", "cdmo_planner")
    assert opencdmo_cli(["token", "create", user.username, "--name", "BI"]) == 0
    secret = capsys.readouterr().out.strip()
    with scopes_disabled():
        token = ApiToken.objects.get(user=user)
    assert (token.scope, token.expires_at) == ("read", None)
    assert _patch_suite(secret, world.suites["alpha-bio"]).status_code == 403


def test_token_create_refuses_a_bad_expiry_naming_the_option(
    opencdmo_cli: Any, world: Any, capsys: Any
) -> None:
    """--expires-in-days 0 exits 1 naming the option; nothing is created."""
    user = world.user("alpha-bio", "cdmo_planner")
    argv = ["token", "create", user.username, "--name", "BI", "--expires-in-days", "0"]
    assert opencdmo_cli(argv) == 1
    assert "--expires-in-days: Give a number of days from 1 to 3650." in capsys.readouterr().err
    with scopes_disabled():
        assert not ApiToken.objects.filter(user=user).exists()


# --- the migration ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_tokens_from_before_scopes_migrate_as_write_tokens_without_expiry() -> None:
    """A token issued before the migration keeps working as it did: write, never expiring."""
    before = [("accounts", "0001_initial")]
    after = [("accounts", "0002_token_scope_expiry_password_changed")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    organisation = old.get_model("accounts", "Organisation").objects.create(
        name="Old CDMO", slug="old-cdmo", kind="cdmo"
    )
    user = old.get_model("accounts", "User").objects.create(
        username="old.user", organisation=organisation, role="cdmo_planner"
    )
    old.get_model("accounts", "ApiToken").objects.create(
        user=user, name="legacy", prefix="legacy01", digest="0" * 64
    )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    try:
        executor.migrate(after)
        new = MigrationExecutor(connection).loader.project_state(after).apps
        token = new.get_model("accounts", "ApiToken").objects.get(prefix="legacy01")
        assert (token.scope, token.expires_at) == ("write", None)
        migrated = new.get_model("accounts", "User").objects.get(username="old.user")
        assert migrated.password_changed_at is None
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
