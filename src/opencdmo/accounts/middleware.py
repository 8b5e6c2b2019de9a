"""Resolve the caller (session, or an API token under ``/api/``) and run the request inside
its tenant scope; restart the session's idle timer on every request the user made (not on
background polls)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import patch_vary_headers

from opencdmo.accounts import tokens
from opencdmo.accounts.models import TokenScope
from opencdmo.accounts.tenancy import caller_scope
from opencdmo.audit.context import request_context

# Sent by elements that refresh themselves (``hx-headers`` on an ``hx-trigger="every …"``).
POLL_HEADER = "X-Background-Poll"
API_PREFIX = "/api/"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
READ_ONLY_TOKEN = "This API token is read-only: it may only read (GET, HEAD, OPTIONS)."


class TenantScopeMiddleware:
    """Authenticate bearer tokens on ``/api/``, then wrap the view in ``caller_scope``.

    A token counts under ``/api/`` and nowhere else: elsewhere the header is ignored, so a
    token never reaches the pages, the token page or Django's admin, which need a password
    session. Token authentication lives here rather than in the API layer so that the scope
    is entered before any view code runs, and a read-only token is refused before any view
    could write.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = (request.headers.get("X-Request-ID") or uuid.uuid4().hex)[:64]
        response = self._refused_token(request) or self._in_scope(request, request_id)
        response["X-Request-ID"] = request_id
        return response

    @staticmethod
    def _refused_token(request: HttpRequest) -> HttpResponse | None:
        """Take the caller from a bearer token on ``/api/``; a 403 for a read-only token
        asked to write. An unknown, expired or revoked token leaves its reason for the 401."""
        header = request.headers.get("Authorization", "")
        if not request.path.startswith(API_PREFIX) or not header.lower().startswith("bearer "):
            return None
        token, error = tokens.authenticate(header[7:].strip())
        request.token_error = error
        if token is None:
            return None
        request.user = token.user
        request.authenticated_by_token = True
        if token.scope == TokenScope.READ and request.method not in READ_METHODS:
            request.forbidden_reason = READ_ONLY_TOKEN
            return JsonResponse({"detail": READ_ONLY_TOKEN}, status=403)
        return None

    def _in_scope(self, request: HttpRequest, request_id: str) -> HttpResponse:
        ip = request.META.get("REMOTE_ADDR", "")
        if settings.BEHIND_PROXY:
            ip = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[0].strip() or ip
        with request_context(request_id=request_id, ip=ip[:64]), caller_scope(request.user):
            return self.get_response(request)


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
