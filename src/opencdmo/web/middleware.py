"""Requests turned away before any view runs (unstorable input, the admin for non-staff), the
Content-Security-Policy on every HTML page, and the static files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from whitenoise.middleware import WhiteNoiseMiddleware

ADMIN_PREFIX = "/admin/"
NUL_MESSAGE = "The request contains a NUL character, which no field may hold."


def _has_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path:
        return True
    if any(
        "\x00" in key or "\x00" in value for key, values in request.GET.lists() for value in values
    ):
        return True
    if request.content_type in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        return any("\x00" in value for _, values in request.POST.lists() for value in values)
    return False


class RejectNulMiddleware:
    """Answer 400 for a NUL byte in the path, query or form (PostgreSQL text cannot hold one).

    It runs after authentication, so a signed-in user reads the 400 page in their own layout.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_nul(request):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": NUL_MESSAGE}, status=400)
            return render(request, "400.html", {"message": NUL_MESSAGE}, status=400)
        return self.get_response(request)


class AdminGateMiddleware:
    """Keep Django's admin for administrators; everyone else meets the application's pages.

    A signed-in user without admin access gets the application's 403 page, and an anonymous
    visitor the application's login (which returns to the admin after a staff login), never
    the admin's own login form.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(ADMIN_PREFIX) and not admin.site.has_permission(request):
            if request.user.is_authenticated:
                raise PermissionDenied("Django's admin is for platform administrators.")
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        return self.get_response(request)


# Scripts and styles come only from our own static files: no page carries a <style> block or
# a style attribute, and htmx is told not to inject its indicator styles (meta htmx-config).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)


class ContentSecurityPolicyMiddleware:
    """Send the Content-Security-Policy on every HTML page, so injected script cannot run."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html"):
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise, serving the apps' static files, and the collected ones once they exist.

    ``STATIC_ROOT`` holds files only after ``opencdmo collectstatic``; until then WhiteNoise
    would warn at every start that the folder is missing, and the settings must not create it.
    """

    def add_files(self, root: str, prefix: str | None = None) -> None:
        if root == self.static_root and not Path(root).is_dir():
            return
        super().add_files(root, prefix)
