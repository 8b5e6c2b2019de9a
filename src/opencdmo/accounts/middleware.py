"""Resolve the caller (session or API token) and run the request inside its tenant scope;
restart the session's idle timer on every request the user made (not on background polls)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

from opencdmo.accounts import tokens
from opencdmo.accounts.tenancy import caller_scope
from opencdmo.audit.context import request_context

# Sent by elements that refresh themselves (``hx-headers`` on an ``hx-trigger="every …"``).
POLL_HEADER = "X-Background-Poll"


class TenantScopeMiddleware:
    """Authenticate bearer tokens, then wrap the view in ``caller_scope``.

    Token authentication lives here rather than in the API layer so that the scope is
    entered before any view code runs, whichever front door the request came through.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("bearer "):
            user, error = tokens.authenticate(header[7:].strip())
            request.token_error = error
            if user is not None:
                request.user = user
                request.authenticated_by_token = True
        request_id = (request.headers.get("X-Request-ID") or uuid.uuid4().hex)[:64]
        ip = request.META.get("REMOTE_ADDR", "")
        if settings.BEHIND_PROXY:
            ip = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[0].strip() or ip
        with request_context(request_id=request_id, ip=ip[:64]), caller_scope(request.user):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


class IdleTimeoutSessionMiddleware(SessionMiddleware):
    """Django's sessions, saved on every request (``SESSION_SAVE_EVERY_REQUEST``), and so
    kept alive for ``IDLE_TIMEOUT_MIN`` more, except by a background poll.

    A page left open that polls a job's progress must not keep its session alive, so a poll
    only saves a session it changed.
    """

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        session = request.session
        if (
            request.headers.get(POLL_HEADER) == "1"
            and not session.modified
            and not session.is_empty()
        ):
            if session.accessed:
                patch_vary_headers(response, ("Cookie",))
            return response
        return super().process_response(request, response)
