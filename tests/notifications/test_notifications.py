"""Notices: each person's channel per event respected, the inbox showing only one's own, the
unread count in the header, and the overdue digest."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail
from django_scopes import scopes_disabled

from opencdmo.notifications import services
from opencdmo.notifications.models import Notification
from tests.conftest import World


def _qa(world: World, org: str = "alpha-bio") -> Any:
    user = world.user(org, "cdmo_qa" if org != "sponsor-one" else "sponsor_qa")
    user.email = f"qa@{org}.example"
    user.save()
    return user


def test_notify_follows_each_persons_channel(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    """E-mail and inbox by default, inbox only, or nothing at all, as each person chose."""
    default, inbox_only, off = (
        _qa(world),
        world.user("alpha-bio", "cdmo_operator"),
        world.user("alpha-bio", "cdmo_msat"),
    )
    inbox_only.email = "op@alpha-bio.example"
    inbox_only.save()
    services.set_preferences(inbox_only, {"deviation.raised": "in_app"})
    services.set_preferences(off, {"deviation.raised": "off"})
    with django_capture_on_commit_callbacks(execute=True):
        written = services.notify(
            [default, inbox_only, off, default], "deviation.raised", "DEV-1 raised", "/inbox/"
        )
    assert [n.user for n in written] == [default, inbox_only]
    assert [m.to for m in mail.outbox] == [[default.email]]
    assert "DEV-1 raised" in mail.outbox[0].subject
    with scopes_disabled():
        assert Notification.objects.get(user=default).emailed_at is not None


def test_unknown_event_and_foreign_link_are_refused(world: World) -> None:
    """A misspelt kind or a link off this site is a programming error, said by name."""
    user = _qa(world)
    with pytest.raises(ValueError, match=r"deviation\.rasied"):
        services.notify([user], "deviation.rasied", "x", "/inbox/")
    with pytest.raises(ValueError, match=r"https://example\.org"):
        services.notify([user], "deviation.raised", "x", "https://example.org")


def test_inbox_shows_only_the_callers_notices(world: World, client_for: Any) -> None:
    """A colleague's or another tenant's notice is neither listed nor opened (404)."""
    mine, colleague, foreign = (
        _qa(world),
        world.user("alpha-bio", "cdmo_operator"),
        world.user("beta-pharma", "cdmo_qa"),
    )
    services.notify([mine], "deviation.raised", "Mine", "/")
    (theirs,) = services.notify([colleague], "deviation.raised", "Colleague's", "/")
    (other,) = services.notify([foreign], "deviation.raised", "Foreign", "/")
    client = client_for(mine)
    page = client.get("/inbox/").content.decode()
    assert "Mine" in page
    assert "Colleague" not in page
    assert "Foreign" not in page
    assert client.post(f"/inbox/{theirs.pk}/open/").status_code == 404
    assert client.post(f"/inbox/{other.pk}/open/").status_code == 404
    with scopes_disabled():
        assert not Notification.objects.filter(read_at__isnull=False).exists()


def test_header_counts_unread_and_opening_marks_read(world: World, client_for: Any) -> None:
    """The unread count shows in the header; opening a notice reads it and follows its link."""
    user = _qa(world)
    first, _second = (
        services.notify([user], "capa.assigned", title, "/inbox/")[0] for title in ("A", "B")
    )
    client = client_for(user)
    assert 'data-testid="unread-count">2<' in client.get("/").content.decode()
    response = client.post(f"/inbox/{first.pk}/open/")
    assert response.status_code == 302
    assert response["Location"] == "/inbox/"
    assert services.unread_count(user) == 1
    client.post("/inbox/read/")
    assert services.unread_count(user) == 0
    assert 'data-testid="unread-count"' not in client.get("/").content.decode()


def test_preferences_page_saves_a_choice_per_event(world: World, client_for: Any) -> None:
    """The settings page stores each kind's channel; an unknown channel is refused by field."""
    user = _qa(world)
    client = client_for(user)
    choices = dict.fromkeys(services.EVENTS, "email")
    bad = client.post("/account/notifications/", {**choices, "digest": "pigeon"})
    assert bad.status_code == 400
    assert services.channel_for(user, "digest") == "email"
    assert client.post("/account/notifications/", {**choices, "digest": "off"}).status_code == 302
    assert services.channel_for(user, "digest") == "off"
    assert services.channel_for(user, "capa.assigned") == "email"


@pytest.fixture
def overdue_item() -> Iterator[None]:
    due = dt.date(2026, 1, 5)

    def provider(user: Any) -> list[services.Overdue]:
        if user.role != "cdmo_qa":
            return []
        return [services.Overdue("CAPA-1 action 1", due, "/quality/capa/1/")]

    services.register_overdue(provider)
    yield
    services._OVERDUE.remove(provider)


def test_digest_mails_what_is_overdue(
    world: World, overdue_item: None, opencdmo_cli: Any, capsys: Any
) -> None:
    """One e-mail per person with something overdue, none to a person who turned it off."""
    alpha, beta = _qa(world), _qa(world, "beta-pharma")
    services.set_preferences(beta, {"digest": "off"})
    assert opencdmo_cli(["notify", "digest"]) == 0
    assert "Sent 1 digest." in capsys.readouterr().out
    (message,) = mail.outbox
    assert message.to == [alpha.email]
    assert "CAPA-1 action 1 (due 2026-01-05): /quality/capa/1/" in message.body
