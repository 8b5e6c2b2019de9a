"""Passwords, lockout, idle timeout, and the audit of logins."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone
from django_scopes import scopes_disabled

from opencdmo.accounts import services
from opencdmo.accounts.models import User
from opencdmo.audit.models import AuditEntry
from tests.conftest import PASSWORD


def _login(client: Client, username: str, password: str) -> Any:
    return client.post("/login/", {"username": username, "password": password})


def _actions(org_id: int | None) -> list[str]:
    with scopes_disabled():
        return list(
            AuditEntry.objects.filter(organisation_id=org_id)
            .order_by("seq")
            .values_list("action", flat=True)
        )


def test_passwords_are_stored_with_argon2(world: Any, settings: Any) -> None:
    """New passwords are hashed with Argon2id, never stored in clear."""
    settings.PASSWORD_HASHERS = ["opencdmo.accounts.hashers.Argon2idHasher"]
    user = services.create_user(
        organisation=world.orgs["sponsor-one"],
        username="ana",
        password="a-long-passphrase-9",
        role="sponsor_manager",
    )
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
    assert "a-long-passphrase-9" not in user.password
    assert user.check_password("a-long-passphrase-9")


def test_a_hash_of_other_argon2_parameters_is_rewritten_at_sign_in(
    world: Any, settings: Any
) -> None:
    """A password hashed with Django's default Argon2 cost still signs in, and its hash is
    rewritten at the platform's (46 MiB, one pass, one lane)."""
    settings.PASSWORD_HASHERS = [
        "opencdmo.accounts.hashers.Argon2idHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
    ]
    user = world.user("sponsor-one", "sponsor_manager")
    old = Argon2PasswordHasher().encode(PASSWORD, "saltsaltsalt1234")
    with scopes_disabled():
        type(user).objects.filter(pk=user.pk).update(password=old)
    assert _login(Client(), user.username, PASSWORD).status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$v=19$m=47104,t=1,p=1$")


def test_login_and_logout_are_audited(world: Any) -> None:
    """A successful login and a logout each leave one entry in the user's organisation chain."""
    user = world.user("sponsor-one", "sponsor_manager")
    client = Client()
    response = _login(client, user.username, PASSWORD)
    assert response.status_code == 302
    client.post("/logout/")
    actions = _actions(user.organisation_id)
    assert actions[-2:] == ["opencdmo.user.logged_in", "opencdmo.user.logged_out"]


def test_failed_login_is_audited_and_shows_error(world: Any) -> None:
    """A wrong password re-shows the form and is recorded as a failed login."""
    user = world.user("alpha-bio", "cdmo_qa")
    response = _login(Client(), user.username, "wrong")
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    assert _actions(user.organisation_id)[-1] == "opencdmo.user.login_failed"


def test_unknown_user_failed_login_goes_to_platform_chain(world: Any) -> None:
    """Failed logins for names that exist nowhere are still recorded."""
    _login(Client(), "nobody-here", "x")
    assert _actions(None)[-1] == "opencdmo.user.login_failed"


def test_account_locks_after_repeated_failures(world: Any) -> None:
    """After the threshold of failures even the right password is refused until the lock expires."""
    user = world.user("alpha-bio", "cdmo_planner")
    client = Client()
    for _ in range(settings.LOCKOUT_THRESHOLD):
        _login(client, user.username, "wrong")
    response = _login(client, user.username, PASSWORD)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    user.refresh_from_db()
    assert user.locked_until is not None
    assert user.locked_until > timezone.now()
    User.objects.filter(pk=user.pk).update(locked_until=timezone.now() - timedelta(seconds=1))
    assert _login(client, user.username, PASSWORD).status_code == 302


def test_success_resets_failure_count(world: Any) -> None:
    """Failures below the threshold are forgotten after a good login."""
    user = world.user("alpha-bio", "cdmo_msat")
    client = Client()
    for _ in range(settings.LOCKOUT_THRESHOLD - 1):
        _login(client, user.username, "wrong")
    assert _login(client, user.username, PASSWORD).status_code == 302
    user.refresh_from_db()
    assert user.failed_login_count == 0


def test_idle_session_expires(world: Any) -> None:
    """Sessions live for the idle timeout after the last request, then the user must log in again."""
    assert settings.SESSION_COOKIE_AGE == settings.IDLE_TIMEOUT_MIN * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST
    user = world.user("sponsor-one", "sponsor_viewer")
    client = Client()
    _login(client, user.username, PASSWORD)
    assert client.get("/organisations/").status_code == 200
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/organisations/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_inactive_user_cannot_log_in(world: Any) -> None:
    """Deactivated accounts are refused."""
    user = world.user("sponsor-one", "sponsor_qa")
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert _login(Client(), user.username, PASSWORD).status_code == 200
