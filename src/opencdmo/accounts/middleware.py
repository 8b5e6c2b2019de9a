"""Resolve the caller (session, or an API token under ``/api/``) and run the request inside
its tenant scope; restart the session's idle timer on every request the user made (not on
background polls); hold sessions to two-factor sign-in where it applies."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import patch_vary_headers

from opencdmo.accounts import tokens
from opencdmo.accounts.models import TokenScope
from opencdmo.accounts.tenancy import caller_scope
from opencdmo.audit.context import request_context

# Sent by elements that refresh themselves (``hx-headers`` on an ``hx-trigger="every …"``).
POLL_HEADER = "X-Background-Poll"
API_PREFIX = "/api/"
ADMIN_PREFIX = "/admin/"
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


TWO_FACTOR_PASSED = "two_factor_passed"
"""Session key: the id of the user whose sign-in passed the one-time code in this session."""
TWO_FACTOR_EXEMPT = ("/account/two-factor/", "/logout/", "/login/", "/static/")
"""Where a member still to set up two-factor sign-in may go."""


def passed_second_factor(request: HttpRequest) -> bool:
    return bool(request.session.get(TWO_FACTOR_PASSED) == request.user.pk)


class TwoFactorMiddleware:
    """Sessions of users with two-factor sign-in count only once the code step passed; members
    of an organisation that requires it, and staff when ``ADMIN_REQUIRE_2FA`` is on and they
    open Django's admin, are sent to set it up before anything else.

    A session that did not pass the step (one started before the user turned it on, in
    another browser) is ended without a logout entry: it was never signed in with both
    factors. API tokens are not sessions and are left alone.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if getattr(request, "authenticated_by_token", False) or not user.is_authenticated:
            return self.get_response(request)
        if passed_second_factor(request):
            return self.get_response(request)
        if user.has_two_factor:
            request.session.flush()
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        if request.path.startswith(TWO_FACTOR_EXEMPT):
            return self.get_response(request)
        organisation = user.organisation
        if organisation is not None and organisation.require_two_factor:
            return self._set_up_first(request, f"{organisation} requires two-factor sign-in")
        if request.path.startswith(ADMIN_PREFIX) and settings.ADMIN_REQUIRE_2FA and user.is_staff:
            return self._set_up_first(request, "Django's admin requires two-factor sign-in")
        return self.get_response(request)

    @staticmethod
    def _set_up_first(request: HttpRequest, why: str) -> HttpResponse:
        message = f"{why}: set it up here before you go on."
        if request.path.startswith(API_PREFIX):
            return JsonResponse({"detail": message}, status=403)
        messages.warning(request, message)
        return redirect(f"{reverse('two-factor')}?{urlencode({'next': request.get_full_path()})}")
