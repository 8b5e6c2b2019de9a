"""API: capacity requests, their options, accepting one, projects, and the plans behind them.

A sponsor reads its requests and the options the sites answered with (dates of its own
batches, price), never the plan behind an option: ``GET /options/{id}/plan`` and
``GET /sites/{id}/plan`` answer a sponsor 404, as for any record it may not read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.http import Http404, HttpRequest
from django_scopes import scopes_disabled
from ninja import Field, Router, Schema, Status

from opencdmo.accounts.models import Organisation
from opencdmo.accounts.roles import REQUEST_CAPACITY, VIEW_PLANS
from opencdmo.api_errors import answers
from opencdmo.core.inputs import InputSchema
from opencdmo.core.tenancy import get_owned_or_404, get_visible_or_404
from opencdmo.network.choices import Agency, Modality, Region
from opencdmo.network.models import Site
from opencdmo.projects import services
from opencdmo.projects.models import CapacityRequest, Option, OptionPlan, Phase, Product, Project
from opencdmo.scheduling.moves import plan_changes, what_moved
from opencdmo.scheduling.services import plan_in_force

router = Router(tags=["requests and projects"])


class ProductIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=120)
    modality: Modality
    phase: Phase


class RequestIn(InputSchema):
    """A capacity request; it is submitted to every capable site at once."""

    product: int | None = Field(None, description="Id of one of your products")
    new_product: ProductIn | None = Field(None, description="Or register a new product")
    scale_l: float = Field(..., gt=0, allow_inf_nan=False, description="Production scale, L")
    batches: int = Field(..., ge=1, le=50)
    earliest_start: dt.date
    need_by: dt.date = Field(..., description="The last batch is finished by this date")
    regions: list[Region] = Field(default_factory=list)
    countries: list[str] = Field(default_factory=list, description="ISO 3166-1 alpha-2 codes")
    approvals: list[Agency] = Field(default_factory=list, description="Required approvals")
    recipients: list[str] = Field(
        default_factory=list, description="Slugs of the CDMOs asked; empty: every capable one"
    )
    notes: str = Field("", max_length=4000)


class StageOut(Schema):
    stage: str
    suite: str
    start: dt.datetime
    end: dt.datetime


class BatchOut(Schema):
    number: int
    start: dt.datetime
    end: dt.datetime
    stages: list[StageOut]


class OptionOut(Schema):
    id: int
    request: int = Field(..., alias="request_id")
    site: int = Field(..., alias="site_id", description="The site's id")
    site_name: str
    status: str
    rank: int | None
    feasible: bool | None
    on_time: bool | None
    proven_optimal: bool
    reasons: list[str]
    lateness_h: int
    first_start: dt.datetime | None
    last_end: dt.datetime | None
    batches: list[BatchOut]
    price_usd: int | None
    conditions: str
    valid_until: dt.date | None

    @staticmethod
    def resolve_site_name(option: Option) -> str:
        return option.site.name


class RequestOut(Schema):
    id: int
    product: str
    modality: str
    scale_l: float
    batches: int
    earliest_start: dt.date
    need_by: dt.date
    regions: list[str]
    countries: list[str]
    approvals: list[str]
    notes: str
    state: str
    submitted_at: dt.datetime | None
    progress: dict[str, int] = Field(..., description="{'answered': n, 'sites': m}")
    screening: dict[str, int] = Field(..., description="Sites left out before a solve, by reason")

    @staticmethod
    def resolve_product(request: CapacityRequest) -> str:
        return request.product.name

    @staticmethod
    def resolve_modality(request: CapacityRequest) -> str:
        return request.product.modality

    @staticmethod
    def resolve_progress(request: CapacityRequest) -> dict[str, int]:
        done, total = services.progress(request)
        return {"answered": done, "sites": total}


class AcceptIn(InputSchema):
    reason: str = Field("", max_length=2000)


class PlannedBatchOut(Schema):
    lot: str
    stage: str
    suite: str
    start: dt.datetime
    end: dt.datetime
    plan_version: int


class LotMoveOut(Schema):
    lot: str
    moved: str = Field(..., description="'production 27 h later; purification to another unit'")
    causes: list[str] = Field(..., description="The kinds of change that moved it")
    versions: list[int] = Field(..., description="The plan versions that moved it")


class ProjectOut(Schema):
    id: int
    name: str
    sponsor: str
    cdmo: str
    site: int = Field(..., alias="site_id")
    product: str
    scope: str
    phase: str
    state: str
    request: int | None = Field(None, alias="request_id")
    option: int | None = Field(None, alias="option_id")
    batches: list[PlannedBatchOut]
    moves: list[LotMoveOut] = Field(
        ..., description="What moved in each lot since the award, and why (never the reason)"
    )

    @staticmethod
    def resolve_sponsor(project: Project) -> str:
        return project.sponsor.slug

    @staticmethod
    def resolve_cdmo(project: Project) -> str:
        return project.cdmo.slug

    @staticmethod
    def resolve_product(project: Project) -> str:
        return project.product.name

    @staticmethod
    def resolve_batches(project: Project) -> list[dict[str, Any]]:
        """The project's batches in the site's latest plan (the plan itself stays the CDMO's)."""
        rows = project.planned_batches.all()
        latest = rows.aggregate(v=Max("plan__version"))["v"]
        return [
            {**row, "plan_version": latest}
            for row in rows.filter(plan__version=latest)
            .order_by("start", "lot")
            .values("lot", "stage", "suite", "start", "end")
        ]

    @staticmethod
    def resolve_moves(project: Project) -> list[dict[str, Any]]:
        rows = list(
            project.planned_batches.values("lot", "stage", "suite", "start", "plan__version")
        )
        versions = sorted({row["plan__version"] for row in rows})
        if not versions:
            return []
        changes = plan_changes(project.site_id, versions)
        return [
            {
                "lot": move.lot,
                "moved": move.words(),
                "causes": list(move.causes) or (["new order"] if move.added else []),
                "versions": list(move.versions),
            }
            for move in what_moved(rows, versions[0], versions[-1], changes)
        ]


class PlanDocumentOut(Schema):
    """A plan anyone can re-check: hour 0, the instance and its result."""

    time_zero: dt.datetime = Field(..., description="UTC datetime of hour 0")
    instance: dict[str, Any] = Field(..., description="opencdmo-schedule/1")
    result: dict[str, Any] = Field(..., description="opencdmo-result/1")
    version: int | None = Field(None, description="The published version (site plans)")


def _require(request: HttpRequest, permission: str) -> None:
    if not request.user.can(permission):
        raise PermissionDenied("Your role does not allow this.")


def _plans_reader(request: HttpRequest) -> None:
    """Plans are the CDMO's own: anyone else is answered as if there were none."""
    if not request.user.can(VIEW_PLANS):
        raise Http404("No such plan.")


def _requests() -> Any:
    return CapacityRequest.objects.select_related("product")


@router.get("/requests", response=answers(list[RequestOut], 400, 401, 403), summary="Your requests")
def list_requests(request: HttpRequest) -> Any:
    _require(request, REQUEST_CAPACITY)
    return list(_requests()[:200])


@router.post(
    "/requests",
    response=answers(RequestOut, 400, 401, 403, 422, success=201),
    summary="File a capacity request and submit it to every capable site",
)
def create_request(request: HttpRequest, payload: RequestIn) -> Status:
    """All or nothing: a refused request leaves no new product behind."""
    _require(request, REQUEST_CAPACITY)
    user = request.user
    with transaction.atomic():
        if payload.product is not None:
            product = Product.objects.filter(pk=payload.product).first()
            if product is None:
                raise ValidationError(
                    {"product": f"No product {payload.product} among your organisation's."}
                )
        elif payload.new_product is not None:
            product = services.create_product(actor=user, **payload.new_product.dict())
        else:
            raise ValidationError({"product": "Give a product id or a new product."})
        with scopes_disabled():
            recipients = list(Organisation.objects.filter(slug__in=payload.recipients, kind="cdmo"))
        missing = sorted(set(payload.recipients) - {o.slug for o in recipients})
        if missing:
            raise ValidationError({"recipients": [f"No CDMO '{slug}'." for slug in missing]})
        fields = payload.dict(exclude={"product", "new_product", "recipients"})
        fields["regions"] = [str(r) for r in fields["regions"]]
        fields["approvals"] = [str(a) for a in fields["approvals"]]
        draft = services.create_request(
            actor=user, recipients=recipients, product=product, **fields
        )
        submitted = services.submit_request(draft, actor=user)
    return Status(201, submitted)


@router.get(
    "/requests/{request_id}",
    response=answers(RequestOut, 400, 401, 403, 404, 422),
    summary="A request's state and progress",
)
def get_request(request: HttpRequest, request_id: int) -> CapacityRequest:
    _require(request, REQUEST_CAPACITY)
    return get_visible_or_404(_requests(), request.user, pk=request_id)


@router.get(
    "/requests/{request_id}/options",
    response=answers(list[OptionOut], 400, 401, 403, 404, 422),
    summary="The sites' options, best first",
)
def list_options(request: HttpRequest, request_id: int) -> Any:
    _require(request, REQUEST_CAPACITY)
    capacity_request = get_visible_or_404(_requests(), request.user, pk=request_id)
    options = Option.objects.filter(request=capacity_request).select_related("site")
    return sorted(options, key=lambda o: (o.rank is None, o.rank or 0, o.pk))


@router.post(
    "/options/{option_id}/accept",
    response=answers(ProjectOut, 400, 401, 403, 404, 422, success=201),
    summary="Accept an option: the batches are reserved and the project opens",
)
def accept_option(request: HttpRequest, option_id: int, payload: AcceptIn) -> Status:
    _require(request, REQUEST_CAPACITY)
    option = get_visible_or_404(Option.objects.select_related("site"), request.user, pk=option_id)
    project = services.accept_option(option, actor=request.user, reason=payload.reason)
    return Status(201, project)


@router.get(
    "/projects/{project_id}",
    response=answers(ProjectOut, 400, 401, 403, 404, 422),
    summary="A project and its batches' planned dates",
)
def get_project(request: HttpRequest, project_id: int) -> Project:
    return get_visible_or_404(
        Project.objects.select_related("sponsor", "cdmo", "product"), request.user, pk=project_id
    )


@router.get(
    "/options/{option_id}/plan",
    response=answers(PlanDocumentOut, 400, 401, 403, 404, 422),
    summary="The what-if plan behind an option (the site's CDMO only)",
)
def get_option_plan(request: HttpRequest, option_id: int) -> OptionPlan:
    _plans_reader(request)
    option = get_owned_or_404(Option, request.user, pk=option_id)
    plan = OptionPlan.objects.filter(option=option).first()
    if plan is None:
        raise Http404("No plan behind this option.")
    return plan


@router.get(
    "/sites/{site_id}/plan",
    response=answers(PlanDocumentOut, 400, 401, 403, 404, 422),
    summary="A site's published plan in force (the site's CDMO only)",
)
def get_site_plan(request: HttpRequest, site_id: int) -> Any:
    _plans_reader(request)
    site = get_owned_or_404(Site, request.user, pk=site_id)
    plan = plan_in_force(site)
    if plan is None:
        raise Http404("This site has no published plan.")
    return plan
