"""Password authentication with lockout after repeated failures."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from opencdmo.accounts.models import User


class LockoutBackend(ModelBackend):
    """Django's model backend, refusing locked accounts and counting failures."""

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
        now = timezone.now()
        if user is not None and user.locked_until and user.locked_until > now:
            if request is not None:
                request.login_refusal = "locked"
            return None
        authenticated = super().authenticate(
            request, username=username, password=password, **kwargs
        )
        if user is None:
            return None
        if authenticated is None:
            User.objects.filter(pk=user.pk).update(failed_login_count=F("failed_login_count") + 1)
            user.refresh_from_db(fields=["failed_login_count"])
            if user.failed_login_count >= settings.LOCKOUT_THRESHOLD:
                until = now + timedelta(minutes=settings.LOCKOUT_DURATION_MIN)
                User.objects.filter(pk=user.pk).update(locked_until=until, failed_login_count=0)
                if request is not None:
                    request.login_refusal = "locked"
            return None
        if user.failed_login_count or user.locked_until:
            User.objects.filter(pk=user.pk).update(failed_login_count=0, locked_until=None)
        return authenticated

    def get_user(self, user_id: int) -> User | None:
        """The session's user with its organisation, which every page's header shows."""
        user = User.objects.select_related("organisation").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
