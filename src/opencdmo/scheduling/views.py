"""Pages: the CDMO's site plans, each as a Gantt chart with its batches and versions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from opencdmo.accounts.roles import PLAN_SITES, VIEW_PLANS
from opencdmo.core.tenancy import get_owned_or_404
from opencdmo.network.models import Site
from opencdmo.scheduling import scenarios, services
from opencdmo.scheduling.charts import ZOOM_DAYS, plan_chart
from opencdmo.scheduling.forms import EDIT_FORMS, NewScenarioForm, PublishForm, SolveForm
from opencdmo.scheduling.models import Scenario, SitePlan
from opencdmo.scheduling.services import plan_in_force


def _require(request: HttpRequest) -> None:
    if not request.user.can(VIEW_PLANS):
        raise PermissionDenied("Your role does not allow this.")


@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    """The caller's sites with the version of the plan in force."""
    _require(request)
    latest = services.latest_plans()
    sites = Site.objects.filter(owner=request.user.organisation).order_by("name")
    rows = [(site, latest.get(site.pk)) for site in sites]
    return render(request, "scheduling/plan_list.html", {"rows": rows})


@login_required
def site_plan(request: HttpRequest, pk: int) -> HttpResponse:
    """A site's plan in force (or an earlier version) as a Gantt chart."""
    _require(request)
    site = get_owned_or_404(Site, request.user, pk=pk)
    versions = list(
        SitePlan.objects.filter(site=site)
        .order_by("-version")
        .values("version", "published_at", "reason", "published_by__username")
    )
    wanted = request.GET.get("version", "")
    version = int(wanted) if wanted.isdigit() else (versions[0]["version"] if versions else None)
    plan = SitePlan.objects.filter(site=site, version=version).first() if version else None
    zoom = request.GET.get("zoom", "quarter")
    zoom = zoom if zoom in ZOOM_DAYS else "quarter"
    chart = (
        plan_chart(plan.instance, plan.result, plan.time_zero, zoom=zoom, title=f"{site.name} plan")
        if plan
        else ""
    )
    batches = list(plan.batches.select_related("project").order_by("start")[:2000]) if plan else []
    context = {
        "site": site,
        "plan": plan,
        "versions": versions,
        "chart": chart,
        "zoom": zoom,
        "zooms": list(ZOOM_DAYS),
        "batches": batches,
        "scenarios": Scenario.objects.filter(site=site).order_by("-pk")[:50],
        "can_plan": request.user.can(PLAN_SITES),
    }
    return render(request, "scheduling/site_plan.html", context)


def _scenario(request: HttpRequest, pk: int, permission: str = VIEW_PLANS) -> Scenario:
    if not request.user.can(permission):
        raise PermissionDenied("Your role does not allow this.")
    return get_owned_or_404(Scenario, request.user, pk=pk)


def _edit_forms(scenario: Scenario, data: Any = None, which: str = "") -> dict[str, Any]:
    units = [s["name"] for s in scenario.instance["suites"]]
    lots = sorted(scenarios.lots(scenario.instance))
    made: dict[str, Any] = {}
    for name, form_class in EDIT_FORMS.items():
        bound = data if name == which else None
        kwargs = {"units": units} if name == "downtime" else {"lots": lots}
        made[name] = form_class(bound, prefix=name, **kwargs)
    return made


@login_required
@require_POST
def scenario_new(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.can(PLAN_SITES):
        raise PermissionDenied("Your role does not allow this.")
    site = get_owned_or_404(Site, request.user, pk=pk)
    form = NewScenarioForm(request.POST)
    name = form.cleaned_data["name"] if form.is_valid() else ""
    try:
        scenario = services.create_scenario(site, actor=request.user, name=name)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("scheduling:site-plan", pk)
    return redirect("scheduling:scenario", scenario.pk)


@login_required
def scenario_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A scenario: its edits, figures, chart, and the forms to edit, solve and publish it."""
    scenario = _scenario(request, pk)
    can_plan = request.user.can(PLAN_SITES)
    forms_by_edit: dict[str, Any] = {}
    if request.method == "POST":
        if not can_plan:
            raise PermissionDenied("Your role does not allow this.")
        which = request.POST.get("edit", "")
        forms_by_edit = _edit_forms(scenario, request.POST, which)
        form = forms_by_edit.get(which)
        if form is not None and form.is_valid():
            try:
                services.edit_scenario(
                    scenario,
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                    edit=which,
                    **form.arguments(),
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, "Changed. Solve to see the new plan.")
                return redirect("scheduling:scenario", scenario.pk)
    if not forms_by_edit:
        forms_by_edit = _edit_forms(scenario)
    zoom = request.GET.get("zoom", "quarter")
    chart = plan_chart(
        scenario.instance,
        scenario.result or {},
        scenario.time_zero,
        zoom=zoom,
        title=scenario.name,
    )
    context = {
        "scenario": scenario,
        "site": Site.objects.get(pk=scenario.site_id),
        "chart": chart,
        "forms": forms_by_edit,
        "solve_form": SolveForm(
            initial={"time_limit_s": scenario.time_limit_s, "goal": scenario.goal}
        ),
        "publish_form": PublishForm(),
        "can_plan": can_plan,
        "zoom": zoom,
        "zooms": list(ZOOM_DAYS),
    }
    template = "scheduling/_scenario_status.html" if request.htmx else "scheduling/scenario.html"
    return render(request, template, context)


@login_required
@require_POST
def scenario_solve(request: HttpRequest, pk: int) -> HttpResponse:
    scenario = _scenario(request, pk, PLAN_SITES)
    form = SolveForm(request.POST)
    valid = form.is_valid()
    limit = form.cleaned_data["time_limit_s"] if valid else 0
    goal = str(form.cleaned_data["goal"]) if valid else scenarios.REPAIR
    try:
        services.queue_solve(scenario, actor=request.user, time_limit_s=limit, goal=goal)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("scheduling:scenario", pk)


@login_required
@require_POST
def scenario_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    services.cancel_solve(_scenario(request, pk, PLAN_SITES), actor=request.user)
    return redirect("scheduling:scenario", pk)


@login_required
@require_POST
def scenario_publish(request: HttpRequest, pk: int) -> HttpResponse:
    scenario = _scenario(request, pk, PLAN_SITES)
    form = PublishForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a reason for publishing; it goes on the audit trail.")
        return redirect("scheduling:scenario", pk)
    try:
        plan = services.publish_scenario(
            scenario, actor=request.user, reason=form.cleaned_data["reason"]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("scheduling:scenario", pk)
    messages.success(request, f"Published as plan v{plan.version}.")
    return redirect("scheduling:site-plan", scenario.site_id)


@login_required
def compare(request: HttpRequest, pk: int) -> HttpResponse:
    """The published plan and the chosen scenarios side by side."""
    _require(request)
    site = get_owned_or_404(Site, request.user, pk=pk)
    wanted = [int(v) for v in request.GET.getlist("scenario") if v.isdigit()]
    chosen = list(Scenario.objects.filter(site=site, pk__in=wanted).order_by("pk"))
    plan = plan_in_force(site)
    columns: list[tuple[str, dict[str, Any]]] = []
    if plan is not None:
        hour = services.now_h(plan.time_zero)
        columns.append(
            (
                f"Published v{plan.version}",
                scenarios.figures(plan.instance, plan.result, plan.result, hour),
            )
        )
    columns += [(f"{s.name} ({s.get_status_display().lower()})", s.figures) for s in chosen]
    units = sorted({u for _, f in columns for u in f.get("utilisation_per_unit", {})})
    context = {
        "site": site,
        "columns": columns,
        "units": units,
        "scenarios": Scenario.objects.filter(site=site).order_by("-pk")[:50],
        "wanted": wanted,
    }
    return render(request, "scheduling/compare.html", context)


def _network_reader(request: HttpRequest) -> None:
    organisation = request.user.organisation
    if not request.user.can(VIEW_PLANS) or organisation is None or organisation.is_sponsor:
        raise PermissionDenied("Your role does not allow this.")


@login_required
def network(request: HttpRequest) -> HttpResponse:
    """The CDMO's campaign plan across its sites: per site and month its campaigns and
    utilisation, and why the late products are late. Polled while a worker solves it."""
    _network_reader(request)
    plan = services.network_plan(actor=request.user)
    sites = []
    if plan is not None and plan.result:
        for entry in plan.result["sites"]:
            months = entry.get("months") or []
            sites.append(
                {
                    **entry,
                    "cells": list(zip(plan.months, months, strict=False)),
                }
            )
    context = {
        "plan": plan,
        "sites": sites,
        "can_plan": request.user.can(PLAN_SITES),
    }
    template = "scheduling/_network.html" if request.htmx else "scheduling/network.html"
    return render(request, template, context)


@login_required
@require_POST
def network_run(request: HttpRequest) -> HttpResponse:
    _network_reader(request)
    if not request.user.can(PLAN_SITES):
        raise PermissionDenied("Your role does not allow this.")
    try:
        services.queue_network_plan(actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("scheduling:network")
