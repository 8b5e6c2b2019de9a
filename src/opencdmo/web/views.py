"""The home page, and error pages: JSON under /api/, HTML in the application's layout elsewhere."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views import defaults

from opencdmo.web.home import panels_for


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """What the caller's role must act on (see ``web.home.HOME_PANELS``)."""
    return render(request, "web/home.html", {"panels": panels_for(request.user)})


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "Your role does not allow this."}, status=403)
    return render(request, "403.html", {"reason": str(exception or "")}, status=403)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """Rendered without the request: the database or a context processor may be what failed."""
    if _is_api(request):
        return JsonResponse({"detail": "Server error; nothing was changed."}, status=500)
    return HttpResponse(loader.get_template("500.html").render(), status=500)
