"""Capacity requests from draft to award, and the options the sites answer with.

Submitting a request screens every CDMO site (or the named CDMOs' sites) on what the site
profile alone decides: qualified modality, single-bioreactor volume, approvals, region and
country. Each site that passes gets an ``Option`` and one capable-to-promise solve as a
background task; the rest are counted by reason, so a request no site can serve says why.
Accepting an option publishes the plan behind it as the site's next version and opens the
project.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections import Counter
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from opencdmo.accounts.models import Organisation, User
from opencdmo.accounts.roles import OrganisationKind
from opencdmo.core import services
from opencdmo.network.choices import Agency, Region
from opencdmo.network.models import Site
from opencdmo.projects.models import CapacityRequest, Option, Product, Project
from opencdmo.scheduling import services as plans
from opencdmo.scheduling.resources import SITE_UNITS_PREFETCH, process_for, site_units

NOT_QUALIFIED = "no suite qualified for the modality"
TOO_SMALL = "no bioreactor large enough"
NO_APPROVAL = "missing a required approval"
WRONG_PLACE = "outside the requested regions or countries"
NO_PLAN = "no published plan"

PRODUCT = services.Writable(Product, fields=("name", "modality", "phase"))


def _request_rules(request: CapacityRequest) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    today = timezone.now().date()
    drafting = request.state == CapacityRequest.State.DRAFT
    if drafting and request.earliest_start and request.earliest_start < today:
        problems.append(("earliest_start", f"The earliest start {request.earliest_start} is past."))
    if request.need_by and request.earliest_start and request.need_by <= request.earliest_start:
        problems.append(("need_by", "The need-by date must come after the earliest start."))
    if request.product_id and request.product.owner_id != request.sponsor_id:
        problems.append(("product", "Choose one of your own organisation's products."))
    regions = {str(value) for value, _ in Region.choices}
    for value in request.regions or []:
        if value not in regions:
            problems.append(("regions", f"Unknown region '{value}'; use one of {sorted(regions)}."))
    agencies = {str(value) for value, _ in Agency.choices}
    for value in request.approvals or []:
        if value not in agencies:
            problems.append(
                ("approvals", f"Unknown agency '{value}'; use one of {sorted(agencies)}.")
            )
    for value in request.countries or []:
        if not (isinstance(value, str) and len(value) == 2 and value.isalpha()):
            problems.append(("countries", f"'{value}' is not a two-letter country code."))
    if request.scale_l and request.scale_l > 30000:
        problems.append(("scale_l", "No bioreactor in the network holds more than 30,000 L."))
    if request.batches and request.batches > 50:
        problems.append(("batches", "Ask for at most 50 batches in one request."))
    return problems


def _normalise_request(fields: dict[str, Any]) -> dict[str, Any]:
    out = dict(fields)
    if "countries" in out:
        out["countries"] = sorted({str(c).strip().upper() for c in out["countries"] or []})
    for key in ("regions", "approvals"):
        if key in out:
            out[key] = sorted({str(v).strip() for v in out[key] or []})
    return out


REQUEST = services.Writable(
    CapacityRequest,
    fields=(
        "product",
        "scale_l",
        "batches",
        "earliest_start",
        "need_by",
        "regions",
        "countries",
        "approvals",
        "notes",
    ),
    noun="capacity_request",
    rules=_request_rules,
    normalise=_normalise_request,
    state_field="state",
    transitions={
        "draft": ("submitted", "withdrawn"),
        "submitted": ("options_ready", "withdrawn", "expired"),
        "options_ready": ("awarded", "withdrawn", "expired", "submitted"),
    },
)

OPTION = services.Writable(Option, fields=("price_usd", "conditions", "valid_until"), noun="option")

PROJECT = services.Writable(
    Project,
    fields=("name", "sponsor", "cdmo", "site", "product", "request", "option", "scope", "phase"),
)


def create_product(*, actor: User, reason: str = "", **fields: Any) -> Product:
    return services.create(
        PRODUCT,
        actor=actor,
        reason=reason,
        default_reason="Product registered",
        parent={"owner": actor.organisation},
        fields=fields,
    )


def create_request(
    *, actor: User, recipients: list[Organisation] | None = None, reason: str = "", **fields: Any
) -> CapacityRequest:
    """A draft request of the actor's organisation."""
    if actor.organisation is None or actor.organisation.kind != OrganisationKind.SPONSOR:
        raise PermissionDenied("Only a sponsor's outsourcing manager files capacity requests.")
    for organisation in recipients or []:
        if organisation.kind != OrganisationKind.CDMO:
            raise ValidationError({"recipients": f"{organisation} is not a CDMO."})
    return services.create(
        REQUEST,
        actor=actor,
        reason=reason,
        default_reason="Capacity request drafted",
        parent={"sponsor": actor.organisation, "created_by": actor},
        fields=fields,
        after_save=lambda r: r.recipients.set(recipients or []),
    )


def screen(request: CapacityRequest) -> tuple[list[Site], dict[str, int]]:
    """Sites that may serve ``request`` by their profile, and the others counted by reason."""
    return screen_sites(request, set(request.recipients.values_list("pk", flat=True)))


def screen_sites(
    request: CapacityRequest, recipients: Iterable[int]
) -> tuple[list[Site], dict[str, int]]:
    """As ``screen``, among the sites of ``recipients`` (every CDMO when empty)."""
    modality = request.product.modality
    asked = set(recipients)
    counts: Counter[str] = Counter()
    capable = []
    with scopes_disabled():
        sites = (
            Site.objects.select_related("owner")
            .prefetch_related("approvals", *SITE_UNITS_PREFETCH)
            .order_by("pk")
        )
        for site in sites:
            if asked and site.owner_id not in asked:
                continue
            if (request.regions and site.region not in request.regions) or (
                request.countries and site.country not in request.countries
            ):
                counts[WRONG_PLACE] += 1
                continue
            agencies = {a.agency for a in site.approvals.all()}
            if not set(request.approvals) <= agencies:
                counts[NO_APPROVAL] += 1
                continue
            process = process_for(site_units(site), modality, request.scale_l)
            if not process.capable:
                counts[NOT_QUALIFIED if "qualified" in process.problems[0] else TOO_SMALL] += 1
                continue
            capable.append(site)
    return capable, dict(counts)


def submit_request(request: CapacityRequest, *, actor: User, reason: str = "") -> CapacityRequest:
    """Screen the sites, create one option per capable site and queue their solves."""
    from opencdmo.projects.tasks import queue_options

    if request.need_by and request.need_by <= timezone.now().date():
        raise ValidationError({"need_by": "The need-by date is past; change it first."})
    sites, counts = screen(request)
    with transaction.atomic():
        services.transition(
            REQUEST,
            request,
            actor=actor,
            reason=reason or "Submitted to capable sites",
            to="submitted",
        )
        CapacityRequest.objects.filter(pk=request.pk).update(
            submitted_at=timezone.now(), screening=counts
        )
        with scopes_disabled():
            Option.objects.filter(request=request).delete()
            options = Option.objects.bulk_create(Option(request=request, site=s) for s in sites)
        if not options:
            services.transition(
                REQUEST, request, actor=None, reason="No site can serve it", to="options_ready"
            )
        transaction.on_commit(lambda: queue_options([o.pk for o in options]))
    request.refresh_from_db()
    return request


def withdraw_request(request: CapacityRequest, *, actor: User, reason: str) -> CapacityRequest:
    cancel_request(request, actor=actor)
    return services.transition(REQUEST, request, actor=actor, reason=reason, to="withdrawn")


def cancel_request(request: CapacityRequest, *, actor: User) -> int:
    """Stop the solves not finished yet; the running ones stop within about a second."""
    REQUEST.authorise(actor, request)
    with scopes_disabled():
        stopped = Option.objects.filter(
            request=request, status__in=[Option.Status.QUEUED, Option.Status.RUNNING]
        ).update(status=Option.Status.CANCELLED, answered_at=timezone.now())
    finish_if_answered(request.pk)
    return stopped


def finish_if_answered(request_id: int) -> None:
    """Rank the options once every site has answered and mark the request ready."""
    with scopes_disabled(), transaction.atomic():
        request = CapacityRequest.objects.select_for_update().get(pk=request_id)
        options = list(Option.objects.filter(request=request))
        if any(not o.finished for o in options) or request.state != CapacityRequest.State.SUBMITTED:
            return
        ranked = sorted(
            (o for o in options if o.feasible),
            key=lambda o: (not o.on_time, o.last_end, o.price_usd or 0, o.pk),
        )
        for position, option in enumerate(ranked, start=1):
            Option.objects.filter(pk=option.pk).update(rank=position)
        services.transition(
            REQUEST,
            request,
            actor=None,
            reason=f"{len(ranked)} of {len(options)} sites can serve it",
            to="options_ready",
        )


def progress(request: CapacityRequest) -> tuple[int, int]:
    """``(sites answered, sites asked)``."""
    with scopes_disabled():
        statuses = list(Option.objects.filter(request=request).values_list("status", flat=True))
    done = sum(s not in {Option.Status.QUEUED, Option.Status.RUNNING} for s in statuses)
    return done, len(statuses)


def accept_option(option: Option, *, actor: User, reason: str = "") -> Project:
    """The sponsor accepts: the plan behind the option becomes the site's next version and
    the project opens with its batches in it."""
    request = option.request
    REQUEST.authorise(actor, request)
    if request.state != CapacityRequest.State.OPTIONS_READY:
        raise ValidationError({"state": "Options can be accepted once every site has answered."})
    if not option.feasible or option.status != Option.Status.ANSWERED:
        raise ValidationError({"option": "This site could not offer slots for the request."})
    with scopes_disabled():
        plan = option.plan
        site = option.site
        current = plans.plan_in_force(site)
    if current is None or current.version != plan.based_on_version:
        raise ValidationError(
            {
                "option": "The site has published a new plan since this option was computed; "
                "submit the request again for fresh dates."
            }
        )
    why = reason.strip() or f"Accepted option #{option.pk} of request #{request.pk}"
    with transaction.atomic():
        services.transition(REQUEST, request, actor=actor, reason=why, to="awarded")
        with scopes_disabled():
            project = services.create(
                PROJECT,
                actor=None,
                reason=why,
                fields={
                    "name": f"{request.product.name} at {site.name}",
                    "sponsor": request.sponsor,
                    "cdmo": site.owner,
                    "site": site,
                    "product": request.product,
                    "request": request,
                    "option": option,
                    "scope": _scope(request.product.phase),
                    "phase": request.product.phase,
                },
            )
            Option.objects.filter(pk=option.pk).update(accepted_at=timezone.now())
            key = f"R{request.pk}"
            lots = {f"{key}-{n}": project.pk for n in range(1, request.batches + 1)}
            for earlier in current.batches.exclude(project=None).values("lot", "project_id"):
                lots.setdefault(earlier["lot"], earlier["project_id"])
            plans.publish_plan(
                site,
                actor=None,
                reason=f"{why}: {request.batches} batches of {request.product.name} reserved",
                time_zero=plan.time_zero,
                instance=promised(current.instance, plan.instance, plan.result, f"{key}-"),
                result=plan.result,
                projects=lots,
            )
    return project


def promised(
    published: dict[str, Any], option: dict[str, Any], result: dict[str, Any], prefix: str
) -> dict[str, Any]:
    """The plan to publish on acceptance: the option's instance, with the plan's own batches
    as they were published (the option's solve bounded them by their promises and weighted
    them up; those terms were for that solve, not for the plan) and each accepted batch due
    when the option said it would end, the promise the CDMO now keeps."""
    ends = {b["batch"]: b["end_h"] for b in (result.get("schedule") or {}).get("batches", [])}
    own = {b["id"]: b for b in published["batches"]}
    out = copy.deepcopy(option)
    out["batches"] = [copy.deepcopy(own.get(b["id"], b)) for b in out["batches"]]
    for batch in out["batches"]:
        if batch["id"].startswith(prefix) and "due_h" in batch and batch["id"] in ends:
            batch["due_h"] = ends[batch["id"]]
    out["id"] = published["id"]
    if "objective" in published:
        out["objective"] = copy.deepcopy(published["objective"])
    else:
        out.pop("objective", None)
    return out


def _scope(phase: str) -> str:
    return "commercial" if phase == "commercial" else "clinical"


def hours_from(time_zero: dt.datetime, day: dt.date) -> int:
    """Whole hours from ``time_zero`` to midnight UTC of ``day`` (never negative)."""
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    return max(0, int((midnight - time_zero).total_seconds() // 3600))


def send_proposal(option: Option, *, actor: User, reason: str, **terms: Any) -> Option:
    """The CDMO's terms for an option (price, validity, conditions), sent to the sponsor."""
    if not option.feasible:
        raise ValidationError({"option": "An option without slots cannot be proposed."})
    updated = services.update(
        OPTION, option, actor=actor, reason=reason, changes=terms, verb="sent"
    )
    with scopes_disabled():
        Option.objects.filter(pk=option.pk).update(sent_at=timezone.now())
    return updated
