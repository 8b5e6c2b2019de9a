"""Refusals (403) logged in one line: method, path, user id and the reason, no traceback.

Django logs a ``PermissionDenied`` through ``django.request`` with its traceback, a dozen
lines for a routine event (a role that may not see a page); a log reader needs who asked for
what and why they were refused.
"""

from __future__ import annotations

import logging
from typing import Any

UNRECORDED = "no reason recorded"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _user_id(request: Any) -> str:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return "anonymous"
    return str(user.pk)


class ForbiddenInOneLine(logging.Filter):
    """On ``django.request``: rewrite each 403 record as one line and drop its traceback.

    The reason is the ``PermissionDenied`` message, or what the refusing code left in
    ``request.forbidden_reason`` (a read-only API token).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if getattr(record, "status_code", None) != 403 or request is None:
            return True
        if getattr(record, "forbidden_in_one_line", False):
            return True  # each configuration of logging adds the filter once more
        record.forbidden_in_one_line = True
        exception = record.exc_info[1] if record.exc_info else None
        reason = str(exception or "") or getattr(request, "forbidden_reason", "") or UNRECORDED
        record.msg = "Forbidden: %s %s user %s: %s"
        record.args = (
            request.method,
            _one_line(request.path),
            _user_id(request),
            _one_line(reason),
        )
        record.exc_info = None
        record.exc_text = None
        return True
