"""API: the caller and organisations."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from opencdmo.accounts.models import Organisation
from opencdmo.api_errors import answers
from opencdmo.core.inputs import Text

router = Router(tags=["accounts"])


class OrganisationOut(Schema):
    slug: str
    name: str
    kind: str
    country: str
    headquarters: str
    website: str
    description: str


class CallerOut(Schema):
    username: str
    name: str
    role: str
    permissions: list[str]
    organisation: OrganisationOut | None
    authenticated_by: str


@router.get("/me", response=answers(CallerOut, 401), summary="The caller: user, role, organisation")
def me(request: HttpRequest) -> dict:
    user = request.user
    return {
        "username": user.username,
        "name": str(user),
        "role": user.role,
        "permissions": sorted(user.permissions),
        "organisation": user.organisation,
        "authenticated_by": "token"
        if getattr(request, "authenticated_by_token", False)
        else "session",
    }


@router.get(
    "/organisations",
    response=answers(list[OrganisationOut], 400, 401, 422),
    summary="CDMOs and sponsors",
)
def organisations(request: HttpRequest, kind: Text | None = None) -> list[Organisation]:
    queryset = Organisation.objects.exclude(kind="platform")
    if kind:
        queryset = queryset.filter(kind=kind)
    return list(queryset)


@router.get(
    "/organisations/{slug}",
    response=answers(OrganisationOut, 400, 401, 404, 422),
    summary="One organisation",
)
def organisation(request: HttpRequest, slug: Text) -> Organisation:
    return get_object_or_404(Organisation.objects.exclude(kind="platform"), slug=slug)
