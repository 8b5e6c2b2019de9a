"""Pages: the sponsor's requests and their options, the CDMO's side of each option, projects."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_scopes import scopes_disabled

from opencdmo.accounts.roles import PROPOSE, REQUEST_CAPACITY, VIEW_PLANS
from opencdmo.core.tenancy import get_owned_or_404, get_visible_or_404
from opencdmo.projects import services
from opencdmo.projects.forms import ProposalForm, ReasonForm, RequestForm
from opencdmo.projects.models import CapacityRequest, Option, OptionPlan, Product, Project
from opencdmo.scheduling import services as plans
from opencdmo.scheduling.charts import option_timeline, plan_chart
from opencdmo.scheduling.moves import plan_changes, what_moved


def _require(request: HttpRequest, permission: str) -> None:
    if not request.user.can(permission):
        raise PermissionDenied("Your role does not allow this.")


@login_required
def request_list(request: HttpRequest) -> HttpResponse:
    """A sponsor's requests; a CDMO's options answered for its sites."""
    user = request.user
    if user.can(REQUEST_CAPACITY) or (user.organisation and user.organisation.is_sponsor):
        requests = CapacityRequest.objects.select_related("product")[:100]
        return render(request, "projects/request_list.html", {"requests": requests})
    _require(request, VIEW_PLANS)
    options = Option.objects.select_related("site").order_by("-created_at")[:100]
    return render(request, "projects/option_list.html", {"options": options})


@login_required
def request_new(request: HttpRequest) -> HttpResponse:
    _require(request, REQUEST_CAPACITY)
    form = RequestForm(request.POST or None, products=Product.objects.all())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                product = data["product"] or services.create_product(
                    actor=request.user,
                    name=data["new_product"],
                    modality=data["modality"],
                    phase=data["phase"],
                )
                draft = services.create_request(
                    actor=request.user,
                    recipients=list(data["recipients"]),
                    product=product,
                    scale_l=data["scale_l"],
                    batches=data["batches"],
                    earliest_start=data["earliest_start"],
                    need_by=data["need_by"],
                    regions=data["regions"],
                    countries=data["countries"],
                    approvals=data["approvals"],
                    notes=data["notes"],
                )
                submitted = services.submit_request(draft, actor=request.user)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            return redirect("projects:request", submitted.pk)
    return render(request, "projects/request_new.html", {"form": form})


def _options(capacity_request: CapacityRequest) -> list[Option]:
    options = Option.objects.filter(request=capacity_request).select_related("site")
    return sorted(options, key=lambda o: (o.rank is None, o.rank or 0, o.site.name))


@login_required
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The request, its progress while sites answer (polled), and the ranked options."""
    _require(request, REQUEST_CAPACITY)
    capacity_request = get_visible_or_404(
        CapacityRequest.objects.select_related("product"), request.user, pk=pk
    )
    answered, asked = services.progress(capacity_request)
    options = _options(capacity_request)
    solving = capacity_request.state == CapacityRequest.State.SUBMITTED
    context = {
        "req": capacity_request,
        "options": options,
        "answered": answered,
        "asked": asked,
        "solving": solving,
        "percent": round(100 * answered / asked) if asked else 100,
        "timeline": option_timeline(options, capacity_request),
        "project": Project.objects.filter(request=capacity_request).first(),
    }
    template = "projects/_options.html" if request.htmx else "projects/request_detail.html"
    return render(request, template, context)


@login_required
@require_POST
def request_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, REQUEST_CAPACITY)
    capacity_request = get_visible_or_404(CapacityRequest.objects.all(), request.user, pk=pk)
    stopped = services.cancel_request(capacity_request, actor=request.user)
    messages.info(request, f"Stopped {stopped} site{'s' * (stopped != 1)} still solving.")
    return redirect("projects:request", pk)


@login_required
@require_POST
def option_accept(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, REQUEST_CAPACITY)
    option = get_visible_or_404(Option.objects.select_related("site"), request.user, pk=pk)
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        project = services.accept_option(option, actor=request.user, reason=reason)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("projects:request", option.request_id)
    messages.success(request, f"Accepted. The batches are reserved at {option.site.name}.")
    return redirect("projects:project", project.pk)


@login_required
def option_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The CDMO's side of an option: the what-if plan behind it and the proposal terms."""
    _require(request, VIEW_PLANS)
    option = get_owned_or_404(Option, request.user, pk=pk)
    with scopes_disabled():
        summary = CapacityRequest.objects.select_related("product", "sponsor").get(
            pk=option.request_id
        )
    plan = OptionPlan.objects.filter(option=option).first()
    form = ProposalForm(
        request.POST or None,
        initial={
            "price_usd": option.price_usd,
            "valid_until": option.valid_until or timezone.now().date() + dt.timedelta(days=30),
            "conditions": option.conditions,
        },
    )
    if request.method == "POST":
        _require(request, PROPOSE)
        if form.is_valid():
            terms = {k: v for k, v in form.cleaned_data.items() if k != "reason"}
            try:
                services.send_proposal(
                    option, actor=request.user, reason=form.cleaned_data["reason"], **terms
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, "Proposal sent to the sponsor.")
                return redirect("projects:option", option.pk)
    chart = (
        plan_chart(
            plan.instance,
            plan.result,
            plan.time_zero,
            highlight=f"R{option.request_id}-",
            zoom=request.GET.get("zoom", "quarter"),
        )
        if plan
        else ""
    )
    context: dict[str, Any] = {
        "option": option,
        "summary": summary,
        "form": form,
        "chart": chart,
        "can_propose": request.user.can(PROPOSE),
    }
    return render(request, "projects/option_detail.html", context)


@login_required
def project_list(request: HttpRequest) -> HttpResponse:
    projects = Project.objects.select_related("sponsor", "cdmo", "site", "product")[:200]
    return render(request, "projects/project_list.html", {"projects": projects})


@login_required
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The project and its batches' planned dates, with what moved and why: since the plan
    version the caller last saw them in, or since the award (``?since=`` picks a version)."""
    project = get_visible_or_404(
        Project.objects.select_related("sponsor", "cdmo", "site", "product"), request.user, pk=pk
    )
    rows = list(
        project.planned_batches.order_by("plan__version", "start").values(
            "lot", "stage", "suite", "start", "end", "plan__version"
        )
    )
    versions = sorted({r["plan__version"] for r in rows})
    latest = versions[-1] if versions else None
    seen = plans.plan_seen(project, request.user)
    wanted = request.GET.get("since", "")
    baseline: int | None = versions[0] if versions else None
    since = "award"
    if wanted.isdigit() and int(wanted) in versions:
        baseline, since = int(wanted), "version"
    elif seen in versions and seen != latest:
        baseline, since = seen, "seen"
    batches = [r for r in rows if r["plan__version"] == latest]
    moves = []
    if latest is not None and baseline is not None:
        earlier = {(r["lot"], r["stage"]): r for r in rows if r["plan__version"] == baseline}
        for row in batches:
            before = earlier.get((row["lot"], row["stage"]))
            row["moved_h"] = (
                round((row["start"] - before["start"]).total_seconds() / 3600) if before else None
            )
            row["moved_to"] = row["suite"] if before and before["suite"] != row["suite"] else ""
        changes = plan_changes(project.site_id, versions)
        moves = what_moved(rows, baseline, latest, changes)
        plans.mark_plan_seen(project, request.user, latest)
    context = {
        "project": project,
        "batches": batches,
        "versions": versions,
        "earlier": [v for v in versions if v != latest],
        "latest": latest,
        "baseline": baseline,
        "since": since,
        "moves": moves,
        "cdmo_side": request.user.organisation_id == project.cdmo_id,
    }
    return render(request, "projects/project_detail.html", context)
