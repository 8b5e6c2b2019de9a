"""Every login, logout and failed login goes to the audit trail."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from opencdmo.accounts.backends import LOCKED
from opencdmo.accounts.models import User
from opencdmo.audit import services as audit


@receiver(user_logged_in)
def _logged_in(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    audit.record(
        "opencdmo.user.logged_in", actor=user, organisation_id=user.organisation_id, target=user
    )


@receiver(user_logged_out)
def _logged_out(sender: Any, request: HttpRequest, user: User | None, **kwargs: Any) -> None:
    if user is not None:
        audit.record(
            "opencdmo.user.logged_out",
            actor=user,
            organisation_id=user.organisation_id,
            target=user,
        )


@receiver(user_login_failed)
def _login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    username = str(credentials.get("username", ""))[:150]
    user = User.objects.filter(username=username).first()
    locked = getattr(request, "login_refusal", "") == LOCKED
    audit.record(
        "opencdmo.user.login_failed",
        organisation_id=user.organisation_id if user else None,
        target=user,
        actor_name=username,
        after={"username": username, "known_user": user is not None, "locked": locked},
    )
