"""The ``/api/v1/`` front door: one NinjaAPI, token or session auth, JSON errors."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError
from ninja.security import HttpBearer, SessionAuth

from opencdmo.accounts.api import router as accounts_router
from opencdmo.analytics.api import router as analytics_router
from opencdmo.manufacturing.api import router as manufacturing_router
from opencdmo.network.api import router as network_router
from opencdmo.projects.api import router as projects_router
from opencdmo.projects.document_api import router as documents_router
from opencdmo.projects.workspace_api import router as workspace_router
from opencdmo.quality.api import router as quality_router
from opencdmo.scheduling.api import router as scheduling_router
from opencdmo.web.api_docs import ApiDocs


class BearerToken(HttpBearer):
    """``Authorization: Bearer ocd_…``; the token itself is resolved by the tenant middleware."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        if getattr(request, "authenticated_by_token", False):
            return request.user
        return None


class Session(SessionAuth):
    """The browser session, with Django's CSRF check on unsafe methods."""

    openapi_description = "Session cookie from the web login"

    def _get_key(self, request: HttpRequest) -> str | None:
        """Check CSRF only for a signed-in session: without one the caller is told 401."""
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)


api = NinjaAPI(
    title="opencdmo API",
    version="1",
    description="Global CDMO network, accounts and more. Authenticate with an API token "
    "(create one under 'API tokens') sent as `Authorization: Bearer <token>`.",
    auth=[BearerToken(), Session()],
    urls_namespace="api",
    docs_url="/docs",
    docs=ApiDocs(),
)
api.add_router("/", accounts_router)
api.add_router("/", network_router)
api.add_router("/", projects_router)
api.add_router("/", manufacturing_router)
api.add_router("/", analytics_router)
api.add_router("/", scheduling_router)
api.add_router("/", quality_router)
api.add_router("/", documents_router)
api.add_router("/", workspace_router)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    reason = (
        getattr(request, "token_error", "")
        or "Authentication required: send an API token or log in."
    )
    return api.create_response(request, {"detail": reason}, status=401)


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {
            "field": ".".join(str(p) for p in error.get("loc", ())[1:]) or "request",
            "message": error.get("msg", "invalid"),
        }
        for error in exc.errors
    ]
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return api.create_response(
        request, {"detail": f"Invalid request – {summary}", "errors": errors}, status=422
    )


@api.exception_handler(DjangoValidationError)
def _rejected(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    messages = exc.message_dict if hasattr(exc, "error_dict") else {"request": exc.messages}
    return api.create_response(request, {"detail": "Rejected", "errors": messages}, status=400)


@api.exception_handler(Http404)
def _missing(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": "Not found."}, status=404)


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(
        request, {"detail": str(exc) or "Your role does not allow this."}, status=403
    )
