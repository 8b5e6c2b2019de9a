"""Template context about the caller."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from opencdmo.accounts import roles


def caller(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    perms = user.permissions if user is not None and user.is_authenticated else frozenset()
    return {
        "caller_permissions": perms,
        "can_view_audit": roles.VIEW_AUDIT in perms,
        "idle_timeout_min": settings.IDLE_TIMEOUT_MIN,
    }
