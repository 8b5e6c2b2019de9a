"""API: the site directory (same filters as the page), site profiles and suite changes."""

from __future__ import annotations

import datetime as dt
import re
from functools import partial

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema
from pydantic import ConfigDict, field_validator

from opencdmo.accounts.roles import EDIT_NETWORK, VIEW_NETWORK, VIEW_PRIVATE_SITE
from opencdmo.api_errors import answers
from opencdmo.core.inputs import InputSchema
from opencdmo.core.tenancy import get_changeable_or_404, get_owned_or_404, get_visible_or_404
from opencdmo.network import services
from opencdmo.network.cache import cached, network_version, query_key
from opencdmo.network.capabilities import attach_capabilities, capabilities_of
from opencdmo.network.choices import (
    Agency,
    GmpGrade,
    InspectionOutcome,
    Modality,
    Region,
    SuiteKind,
    SuiteStatus,
)
from opencdmo.network.models import Site, SitePrivateProfile, Suite
from opencdmo.network.search import SORTS, SiteQuery, find_sites

router = Router(tags=["network"])

_COUNTRY_CODE = re.compile(r"^[A-Za-z]{2}$")
MAX_OFFSET = 1_000_000_000
JSON_CONTENT_TYPE = "application/json; charset=utf-8"


class SiteFilters(InputSchema):
    """Query parameters of ``GET /sites``; each one narrows the result."""

    modality: Modality | None = Field(None, description="Qualified in an operational suite")
    min_volume_l: float | None = Field(
        None, ge=0, allow_inf_nan=False, description="Largest single bioreactor ≥, L"
    )
    min_total_volume_l: float | None = Field(
        None, ge=0, allow_inf_nan=False, description="All bioreactors ≥, L"
    )
    country: str | None = Field(
        None,
        description="ISO 3166-1 alpha-2 code, e.g. DE",
        json_schema_extra={"pattern": _COUNTRY_CODE.pattern},
    )
    region: Region | None = None
    agency: Agency | None = Field(None, description="Holds an approval from this agency")
    inspection_outcome: InspectionOutcome | None = Field(
        None, description="Outcome of the most recent inspection"
    )
    q: str | None = Field(None, max_length=100, description="Name, city or company contains")
    sort: str = Field(
        "name", description=f"One of: {', '.join(SORTS)}", json_schema_extra={"enum": list(SORTS)}
    )
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)

    @field_validator("sort")
    @classmethod
    def _known_sort(cls, value: str) -> str:
        if value not in SORTS:
            raise ValueError(f"unknown sort '{value}'; use one of: {', '.join(SORTS)}")
        return value

    @field_validator("country")
    @classmethod
    def _country_code(cls, value: str | None) -> str | None:
        if value is not None and not _COUNTRY_CODE.match(value):
            raise ValueError(f"'{value}' is not a two-letter ISO 3166-1 code such as 'DE'")
        return value

    def to_query(self) -> SiteQuery:
        return SiteQuery(
            modality=self.modality or "",
            min_volume_l=self.min_volume_l,
            min_total_volume_l=self.min_total_volume_l,
            country=(self.country or "").upper(),
            region=self.region or "",
            agency=self.agency or "",
            inspection_outcome=self.inspection_outcome or "",
            text=(self.q or "").strip(),
            sort=self.sort,
        )


class OwnerOut(Schema):
    slug: str
    name: str


class CapabilitiesOut(Schema):
    max_bioreactor_volume_l: float | None
    total_bioreactor_volume_l: float
    bioreactor_count: int
    modalities: list[str]
    agencies: list[str]
    latest_inspection_outcome: str | None
    latest_inspection_on: dt.date | None


class SiteSummaryOut(Schema):
    id: int
    code: str
    name: str
    owner: OwnerOut
    country: str
    region: str
    city: str
    latitude: float
    longitude: float
    capabilities: CapabilitiesOut


class SitePageOut(Schema):
    count: int = Field(description="Sites matching the filters, over all pages")
    limit: int
    offset: int
    items: list[SiteSummaryOut]


class EquipmentOut(Schema):
    id: int
    tag: str
    kind: str
    working_volume_l: float | None
    throughput_units_per_h: int | None
    manufacturer: str


class SuiteOut(Schema):
    id: int
    name: str
    kind: str
    gmp_grade: str
    status: str
    modalities: list[str]
    equipment: list[EquipmentOut]

    @staticmethod
    def resolve_equipment(suite: Suite) -> list:
        return list(suite.equipment.all())


class ApprovalOut(Schema):
    agency: str
    scope: str
    granted_on: dt.date


class InspectionOut(Schema):
    agency: str
    inspected_on: dt.date
    outcome: str
    observations: int


class PrivateProfileOut(Schema):
    indicative_batch_price_usd: int | None
    spare_capacity_note: str
    key_contact: str
    internal_notes: str


class SiteOut(SiteSummaryOut):
    description: str
    established_year: int | None
    suites: list[SuiteOut]
    approvals: list[ApprovalOut]
    inspections: list[InspectionOut]
    private: PrivateProfileOut | None = Field(
        None, description="Only for the owning CDMO's roles that may see private site data"
    )

    @staticmethod
    def resolve_suites(site: Site) -> list[Suite]:
        return list(site.suites.prefetch_related("equipment", "qualifications").order_by("name"))

    @staticmethod
    def resolve_private(site: Site) -> SitePrivateProfile | None:
        """Never ``site.private``: that reverse accessor bypasses the tenant scope."""
        return getattr(site, "private_profile", None)


class SuitePatch(InputSchema):
    """Fields to change; ``reason`` goes on the audit trail. Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    reason: str
    name: str | None = None
    kind: SuiteKind | None = None
    gmp_grade: GmpGrade | None = None
    status: SuiteStatus | None = None
    modalities: list[Modality] | None = None


def _require(request: HttpRequest, permission: str) -> None:
    if not request.user.can(permission):
        raise PermissionDenied("Your role does not allow this.")


@router.get(
    "/sites", response=answers(SitePageOut, 400, 401, 403, 422), summary="Find sites by capability"
)
def list_sites(request: HttpRequest, filters: Query[SiteFilters]) -> HttpResponse:
    """Every caller sees the same page, so its JSON is built once per network version."""
    _require(request, VIEW_NETWORK)
    key = "api-sites:" + query_key((k, repr(v)) for k, v in filters.model_dump().items())
    body = cached(network_version(), key, partial(_site_page_json, filters))
    return HttpResponse(body, content_type=JSON_CONTENT_TYPE)


def _site_page_json(filters: SiteFilters) -> bytes:
    sites = find_sites(filters.to_query())
    window = list(sites[filters.offset : filters.offset + filters.limit])
    page = SitePageOut.model_validate(
        {
            "count": sites.count(),
            "limit": filters.limit,
            "offset": filters.offset,
            "items": attach_capabilities(window),
        }
    )
    return page.model_dump_json().encode()


@router.get(
    "/sites/{site_id}",
    response=answers(SiteOut, 400, 401, 403, 404, 422),
    summary="One site's profile",
)
def get_site(request: HttpRequest, site_id: int) -> Site:
    _require(request, VIEW_NETWORK)
    site = get_visible_or_404(Site.objects.select_related("owner"), request.user, pk=site_id)
    site.capabilities = capabilities_of(site)
    own = Site.tenancy.owns(request.user, site) and request.user.can(VIEW_PRIVATE_SITE)
    site.private_profile = SitePrivateProfile.objects.filter(site=site).first() if own else None
    return site


@router.get(
    "/sites/{site_id}/private",
    response=answers(PrivateProfileOut, 400, 401, 403, 404, 422),
    summary="A site's private profile (owning CDMO only)",
)
def get_private_profile(request: HttpRequest, site_id: int) -> SitePrivateProfile:
    _require(request, VIEW_PRIVATE_SITE)
    site = get_owned_or_404(Site, request.user, pk=site_id)
    return SitePrivateProfile.objects.filter(site=site).first() or SitePrivateProfile(site=site)


@router.patch(
    "/suites/{suite_id}",
    response=answers(SuiteOut, 400, 401, 403, 404, 422),
    summary="Change a suite (owning CDMO)",
)
def patch_suite(request: HttpRequest, suite_id: int, payload: SuitePatch) -> Suite:
    _require(request, EDIT_NETWORK)
    suite = get_changeable_or_404(Suite, request.user, pk=suite_id)
    changes = payload.dict(exclude_unset=True, exclude={"reason"})
    return services.update_suite(suite, actor=request.user, reason=payload.reason, **changes)
