"""API tokens: random secrets shown once, stored as SHA-256 digests, revocable, expiring."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from django.utils import timezone
from django_scopes import scopes_disabled

from opencdmo.accounts.models import ApiToken

TOKEN_PREFIX = "ocd_"


def digest(secret: str) -> str:
    """SHA-256 hex digest; a high-entropy secret needs no slow hash."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> tuple[str, str]:
    """Return ``(secret, prefix)``; the prefix identifies the token in lists."""
    body = secrets.token_urlsafe(32)
    return f"{TOKEN_PREFIX}{body}", body[:8]


def authenticate(secret: str) -> tuple[ApiToken | None, str]:
    """The token behind ``secret`` (its user loaded, active), or ``None`` with the reason."""
    if not secret.startswith(TOKEN_PREFIX):
        return None, "Malformed API token."
    with scopes_disabled():
        try:
            token = ApiToken.objects.select_related("user__organisation").get(digest=digest(secret))
        except ApiToken.DoesNotExist:
            return None, "Unknown API token."
        if token.revoked_at is not None:
            return None, "This API token has been revoked."
        now = timezone.now()
        if token.expires_at is not None and token.expires_at <= now:
            return None, f"This API token expired on {format_utc(token.expires_at)}."
        if not token.user.is_active:
            return None, "The token's user is inactive."
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token, ""


def format_utc(moment: datetime) -> str:
    """``2026-03-01 09:30 UTC``: how token dates read in answers, lists and the command."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
