"""The unread count shown next to the inbox link in every page's header."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from opencdmo.notifications.services import unread_count


def inbox(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"inbox_unread": unread_count(user)}
