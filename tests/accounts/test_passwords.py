"""A user changes their own password; a forgotten one is reset through an e-mailed link."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.core import mail
from django.test import Client
from django.utils import timezone
from django_scopes import scopes_disabled

from opencdmo.accounts.models import User
from opencdmo.audit.models import AuditEntry
from tests.conftest import PASSWORD

NEW_PASSWORD = "a-fresh-passphrase-2026"


def _entries(action: str) -> list[AuditEntry]:
    with scopes_disabled():
        return list(AuditEntry.objects.filter(action=action).order_by("seq"))


def _signed_in(user: User) -> Client:
    client = Client()
    assert (
        client.post("/login/", {"username": user.username, "password": PASSWORD}).status_code == 302
    )
    return client


def _change(client: Client, old: str, new: str, again: str | None = None) -> Any:
    return client.post(
        "/account/password/",
        {"old_password": old, "new_password1": new, "new_password2": again or new},
    )


# --- changing your own password ---------------------------------------------------------------


def test_a_user_changes_their_password_and_stays_signed_in(world: Any) -> None:
    """Old password and the new one twice: the new one works, the old one no longer, and the
    session that changed it goes on."""
    user = world.user("alpha-bio", "cdmo_qa")
    client = _signed_in(user)
    response = _change(client, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302
    assert client.get("/account/tokens/").status_code == 200
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert not user.check_password(PASSWORD)
    assert user.password_changed_at is not None


def test_changing_the_password_ends_the_other_sessions(world: Any) -> None:
    """A second browser signed in as the same user is signed out by the change."""
    user = world.user("alpha-bio", "cdmo_qa")
    here, elsewhere = _signed_in(user), _signed_in(user)
    assert elsewhere.get("/account/tokens/").status_code == 200
    _change(here, PASSWORD, NEW_PASSWORD)
    answer = elsewhere.get("/account/tokens/")
    assert answer.status_code == 302
    assert answer["Location"].startswith("/login/")


def test_the_change_is_audited_without_the_hash(world: Any) -> None:
    """One 'password changed' entry, the user as actor, saying when and never the hash."""
    user = world.user("sponsor-one", "sponsor_qa")
    _change(_signed_in(user), PASSWORD, NEW_PASSWORD)
    [entry] = _entries("opencdmo.user.password_changed")
    user.refresh_from_db()
    assert (entry.actor_id, entry.organisation_id) == (user.pk, user.organisation_id)
    assert entry.reason == "Password changed by its user"
    assert set(entry.after) == {"password_changed_at"}
    text = f"{entry.before} {entry.after}"
    assert user.password not in text
    assert user.password.split("$")[-1] not in text


def test_a_wrong_old_password_or_a_weak_new_one_changes_nothing(world: Any) -> None:
    """Each is shown on its field; the password stays and nothing is audited."""
    user = world.user("sponsor-one", "sponsor_qa")
    client = _signed_in(user)
    wrong_old = _change(client, "not-the-password", NEW_PASSWORD)
    assert "old_password" in wrong_old.context["form"].errors
    weak = _change(client, PASSWORD, "short")
    assert "new_password2" in weak.context["form"].errors
    mismatch = _change(client, PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x")
    assert "new_password2" in mismatch.context["form"].errors
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert _entries("opencdmo.user.password_changed") == []


def test_the_change_page_needs_a_session(world: Any) -> None:
    """Anonymous callers are sent to the login."""
    response = Client().get("/account/password/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_every_page_links_to_the_change_page(world: Any, client_for: Any) -> None:
    """The header, beside the account, offers 'Change password'."""
    page = client_for(world.user("alpha-bio", "cdmo_qa")).get("/organisations/")
    assert b'href="/account/password/" data-testid="change-password"' in page.content


# --- resetting a forgotten password -----------------------------------------------------------


def _with_email(user: User, address: str) -> User:
    User.objects.filter(pk=user.pk).update(email=address)
    user.refresh_from_db()
    return user


def _reset_link() -> str:
    [message] = mail.outbox
    match = re.search(r"http://testserver(/account/password/reset/[^/]+/[^/]+/)", message.body)
    assert match, message.body
    return match[1]


def test_forgot_password_is_offered_on_the_login_page(db: Any) -> None:
    """The login form links to the reset request."""
    assert b'href="/account/password/reset/"' in Client().get("/login/").content


def test_the_answer_is_the_same_for_known_and_unknown_addresses(world: Any) -> None:
    """A known address gets a mail, an unknown one none; the page cannot tell them apart."""
    _with_email(world.user("alpha-bio", "cdmo_qa"), "qa@alpha.example")
    known = Client().post("/account/password/reset/", {"email": "qa@alpha.example"})
    unknown = Client().post("/account/password/reset/", {"email": "nobody@alpha.example"})
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert known["Location"] == "/account/password/reset/sent/"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["qa@alpha.example"]
    sent = Client().get(known["Location"])
    assert b"If an account has that address" in sent.content


def test_a_reset_link_sets_a_new_password_once_audited_and_unlocks(world: Any) -> None:
    """The e-mailed link sets a new password, ends a lockout, is audited, and works once."""
    user = _with_email(world.user("alpha-bio", "cdmo_planner"), "planner@alpha.example")
    User.objects.filter(pk=user.pk).update(
        locked_until=timezone.now() + timedelta(minutes=10), failed_login_count=3
    )
    Client().post("/account/password/reset/", {"email": "planner@alpha.example"})
    visitor = Client()
    form_page = visitor.get(_reset_link(), follow=True)
    assert b"Choose a new password" in form_page.content
    confirm_url = form_page.redirect_chain[-1][0]
    done = visitor.post(confirm_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert (done.status_code, done["Location"]) == (302, "/login/")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert (user.locked_until, user.failed_login_count) == (None, 0)
    login = Client().post("/login/", {"username": user.username, "password": NEW_PASSWORD})
    assert login.status_code == 302
    [entry] = _entries("opencdmo.user.password_reset")
    assert entry.actor_id == user.pk
    assert entry.after["locked_until"] is None
    assert entry.before["locked_until"] is not None
    assert user.password not in f"{entry.before} {entry.after}"
    again = Client().get(_reset_link(), follow=True)
    assert b"This link no longer works" in again.content


def test_a_weak_password_on_the_reset_page_changes_nothing(world: Any) -> None:
    """Django's validators apply; the form says why and nothing is audited."""
    user = _with_email(world.user("sponsor-two", "sponsor_qa"), "qa@two.example")
    Client().post("/account/password/reset/", {"email": "qa@two.example"})
    visitor = Client()
    confirm_url = visitor.get(_reset_link(), follow=True).redirect_chain[-1][0]
    refused = visitor.post(confirm_url, {"new_password1": "password", "new_password2": "password"})
    assert refused.status_code == 200
    assert "new_password2" in refused.context["form"].errors
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert _entries("opencdmo.user.password_reset") == []


def test_inactive_users_get_no_reset_mail(world: Any) -> None:
    """A deactivated account cannot come back through a reset; the answer is the same."""
    user = _with_email(world.user("sponsor-two", "sponsor_viewer"), "gone@two.example")
    User.objects.filter(pk=user.pk).update(is_active=False)
    response = Client().post("/account/password/reset/", {"email": "gone@two.example"})
    assert response["Location"] == "/account/password/reset/sent/"
    assert mail.outbox == []


def test_repeated_reset_requests_send_one_mail_per_interval(world: Any, settings: Any) -> None:
    """A flood of requests for one address sends one link; the answer stays the same, and a
    request after the interval sends the next."""
    settings.RESET_MAIL_INTERVAL_MIN = 5
    user = _with_email(world.user("alpha-bio", "cdmo_qa"), "qa@alpha.example")
    answers = {
        Client().post("/account/password/reset/", {"email": "qa@alpha.example"})["Location"]
        for _ in range(5)
    }
    assert answers == {"/account/password/reset/sent/"}
    assert len(mail.outbox) == 1
    User.objects.filter(pk=user.pk).update(reset_mail_at=timezone.now() - timedelta(minutes=6))
    Client().post("/account/password/reset/", {"email": "qa@alpha.example"})
    assert len(mail.outbox) == 2
