"""API tokens: random secrets shown once, stored as SHA-256 digests, revocable."""

from __future__ import annotations

import hashlib
import secrets

from django.utils import timezone
from django_scopes import scopes_disabled

from opencdmo.accounts.models import ApiToken, User

TOKEN_PREFIX = "ocd_"


def digest(secret: str) -> str:
    """SHA-256 hex digest; a high-entropy secret needs no slow hash."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> tuple[str, str]:
    """Return ``(secret, prefix)``; the prefix identifies the token in lists."""
    body = secrets.token_urlsafe(32)
    return f"{TOKEN_PREFIX}{body}", body[:8]


def authenticate(secret: str) -> tuple[User | None, str]:
    """The active user behind ``secret``, or ``None`` with the reason."""
    if not secret.startswith(TOKEN_PREFIX):
        return None, "Malformed API token."
    with scopes_disabled():
        try:
            token = ApiToken.objects.select_related("user__organisation").get(digest=digest(secret))
        except ApiToken.DoesNotExist:
            return None, "Unknown API token."
        if token.revoked_at is not None:
            return None, "This API token has been revoked."
        if not token.user.is_active:
            return None, "The token's user is inactive."
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user, ""
