"""``notify``: tell people of an event in their inbox and, if they chose so, by e-mail.

Every app calls ``notify(recipients, event, title, link, body)``; each recipient's
``Preference`` for ``event`` decides the channel (``DEFAULT_CHANNEL`` without one). E-mails go
through Django's e-mail backend once the surrounding transaction commits, so a rolled-back
write tells nobody. ``opencdmo notify digest`` e-mails each person what is overdue for them,
gathered from the providers apps register with ``register_overdue``.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from opencdmo.accounts.models import User
from opencdmo.notifications.models import Channel, Notification, Preference

__all__ = [
    "DEFAULT_CHANNEL",
    "EVENTS",
    "Overdue",
    "channel_for",
    "mark_read",
    "notify",
    "overdue_for",
    "people_with",
    "register_overdue",
    "send_digests",
    "set_preferences",
    "unread_count",
]

EVENTS: dict[str, str] = {
    "deviation.raised": "A deviation is raised at your site",
    "deviation.classified": "A deviation of your project is classified",
    "deviation.closed": "A deviation is closed",
    "capa.assigned": "A CAPA action is assigned to you",
    "capa.effectiveness": "A CAPA awaits its effectiveness check",
    "disposition.awaited": "A batch awaits your disposition",
    "disposition.signed": "A batch is released or rejected",
    "monitoring.alarm": "A monitoring alarm on a running batch",
    "message.mentioned": "You are mentioned in a project's messages",
    "digest": "Daily digest of what is overdue for you",
}
"""The kinds a person chooses a channel for; ``notify`` refuses any other."""

DEFAULT_CHANNEL = Channel.EMAIL

logger = logging.getLogger(__name__)


def channel_for(user: User, event: str) -> str:
    with scopes_disabled():
        chosen = Preference.objects.filter(user=user, event=event).first()
    return chosen.channel if chosen else str(DEFAULT_CHANNEL)


def _check(event: str, link: str) -> None:
    if event not in EVENTS:
        raise ValueError(f"Unknown notification event '{event}'; use one of: {', '.join(EVENTS)}.")
    if not link.startswith("/") or link.startswith("//"):
        raise ValueError(f"A notification links to a path on this site, not '{link}'.")


def _url(link: str) -> str:
    """A link as an e-mail gives it: absolute when the site's address is configured."""
    return f"{settings.SITE_URL.rstrip('/')}{link}" if settings.SITE_URL else link


def _when(due: Any) -> str:
    if isinstance(due, dt.datetime):
        return f"{due.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"
    return f"{due:%Y-%m-%d}"


def _mail(notification: Notification) -> None:
    user = notification.user
    text = notification.body or notification.title
    url = _url(notification.link)
    try:
        send_mail(
            f"[opencdmo] {notification.title}",
            f"{text}\n\n{url}\n",
            settings.DEFAULT_FROM_EMAIL,
            [user.email],
        )
    except (OSError, smtplib.SMTPException) as exc:
        # The write that notified is committed; the inbox has the notice, the mail is owed.
        logger.warning("Could not e-mail notice %s to %s: %s", notification.pk, user.email, exc)
        return
    with scopes_disabled():
        Notification.objects.filter(pk=notification.pk).update(emailed_at=timezone.now())


def notify(
    recipients: Iterable[User], event: str, title: str, link: str, body: str = ""
) -> list[Notification]:
    """Tell each active recipient once (duplicates and inactive people are skipped) by the
    channel each chose for ``event``; returns the inbox entries written."""
    _check(event, link)
    written = []
    seen: set[int] = set()
    for user in recipients:
        if user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        channel = channel_for(user, event)
        if channel == Channel.OFF:
            continue
        with scopes_disabled():
            notification = Notification.objects.create(
                user=user, event=event, title=title[:300], link=link, body=body
            )
        written.append(notification)
        if channel == Channel.EMAIL and user.email:
            transaction.on_commit(lambda n=notification: _mail(n))
    return written


def people_with(organisation_id: int | None, permission: str) -> list[User]:
    """The active people of an organisation whose role holds ``permission`` (its QA, say)."""
    if organisation_id is None:
        return []
    with scopes_disabled():
        people = User.objects.filter(organisation_id=organisation_id, is_active=True)
        return [user for user in people.order_by("pk") if user.can(permission)]


def unread_count(user: User) -> int:
    with scopes_disabled():
        return Notification.objects.filter(user=user, read_at__isnull=True).count()


def mark_read(user: User, ids: Iterable[int] | None = None) -> int:
    """Mark the user's own notices read (all, or those of ``ids``); returns how many."""
    with scopes_disabled():
        mine = Notification.objects.filter(user=user, read_at__isnull=True)
        if ids is not None:
            mine = mine.filter(pk__in=list(ids))
        return mine.update(read_at=timezone.now())


def set_preferences(user: User, channels: dict[str, str]) -> None:
    """Store the user's channel for each event kind; unknown kinds or channels are refused."""
    errors = {
        event: f"Choose one of: {', '.join(Channel.values)}."
        for event, channel in channels.items()
        if event not in EVENTS or channel not in Channel.values
    }
    if errors:
        raise ValidationError(errors)
    with scopes_disabled(), transaction.atomic():
        for event, channel in channels.items():
            Preference.objects.update_or_create(
                user=user, event=event, defaults={"channel": channel}
            )


@dataclass(frozen=True)
class Overdue:
    """One thing overdue for a person: what, since when, and where to act on it."""

    title: str
    due: dt.date | dt.datetime
    link: str


_OVERDUE: list[Callable[[User], list[Overdue]]] = []


def register_overdue(provider: Callable[[User], list[Overdue]]) -> None:
    """Add an app's list of what is overdue for a person (its digest section)."""
    if provider not in _OVERDUE:
        _OVERDUE.append(provider)


def overdue_for(user: User) -> list[Overdue]:
    return [item for provider in _OVERDUE for item in provider(user)]


def send_digests() -> int:
    """E-mail each active person with an address what is overdue for them (unless they
    turned the digest off); returns how many e-mails went out."""
    with scopes_disabled():
        people = list(User.objects.filter(is_active=True).exclude(email="").order_by("pk"))
    sent = 0
    for user in people:
        if channel_for(user, "digest") != Channel.EMAIL:
            continue
        items = overdue_for(user)
        if not items:
            continue
        lines = [f"- {item.title} (due {_when(item.due)}): {_url(item.link)}" for item in items]
        send_mail(
            f"[opencdmo] {len(items)} overdue item{'s' if len(items) != 1 else ''}",
            "Overdue for you:\n\n" + "\n".join(lines) + "\n",
            settings.DEFAULT_FROM_EMAIL,
            [user.email],
        )
        sent += 1
    return sent
