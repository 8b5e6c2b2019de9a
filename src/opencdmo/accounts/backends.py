"""Password authentication with a lockout after repeated failures, counted atomically.

A password is checked only after the attempt has claimed one of the account's
``LOCKOUT_THRESHOLD`` tries in one conditional ``UPDATE`` (count it; lock the account when it
is the last; only while the account is not locked). The database applies that statement to
the row one attempt at a time, on PostgreSQL and SQLite alike, so however many guesses run in
parallel, no more than the threshold are checked before the lock, and the rest are refused
unchecked. A correct password then clears the count and the lock.

Every refusal costs one password hash, whether the user is unknown (Django's dummy hash),
locked or wrong, so neither the answer nor its time tells them apart.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.db.models import Case, F, Q, Value, When
from django.http import HttpRequest
from django.utils import timezone

from opencdmo.accounts.models import User

LOCKED = "locked"
"""``request.login_refusal`` of an attempt refused unchecked: the audit entry says so."""


def claim_attempt(user_id: int, now: datetime) -> bool:
    """Count one password attempt of an unlocked account; ``False`` if it is locked.

    The attempt that reaches the threshold locks the account for ``LOCKOUT_DURATION_MIN``
    and restarts the count, in the same statement.
    """
    reaches = Q(failed_login_count__gte=settings.LOCKOUT_THRESHOLD - 1)
    until = now + timedelta(minutes=settings.LOCKOUT_DURATION_MIN)
    claimed = (
        User.objects.filter(pk=user_id)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
        .update(
            failed_login_count=Case(
                When(reaches, then=Value(0)), default=F("failed_login_count") + 1
            ),
            locked_until=Case(When(reaches, then=Value(until)), default=F("locked_until")),
        )
    )
    return claimed == 1


def clear_lockout(user_id: int) -> None:
    """Forget counted failures and any lock (a correct password, a password reset)."""
    User.objects.filter(pk=user_id).update(failed_login_count=0, locked_until=None)


class LockoutBackend(ModelBackend):
    """Django's model backend; a password is checked only within an unlocked account's tries."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if username is None or password is None:
            return None
        user = User.objects.filter(username=username).first()
        if user is None:
            User().set_password(password)  # the hash a known user's check would cost
            return None
        if not claim_attempt(user.pk, timezone.now()):
            User().set_password(password)
            if request is not None:
                request.login_refusal = LOCKED
            return None
        if not (user.check_password(password) and self.user_can_authenticate(user)):
            return None
        clear_lockout(user.pk)
        user.failed_login_count, user.locked_until = 0, None
        return user

    def get_user(self, user_id: int) -> User | None:
        """The session's user with its organisation, which every page's header shows."""
        user = User.objects.select_related("organisation").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
