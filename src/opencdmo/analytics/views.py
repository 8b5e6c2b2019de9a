"""Pages: monitoring models (request, fit progress, approval), a batch's live monitoring and
the sponsor's read-only view of verdicts and alarms. Each alarm shows the deviations raised
from it and, to the batch's CDMO staff, the way to raise one (a quality page)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh
from django_scopes import scopes_disabled

from opencdmo.accounts.middleware import POLL_HEADER
from opencdmo.accounts.roles import BUILD_MODELS, EDIT_BATCHES, SIGN_RECORDS
from opencdmo.analytics import charts, services
from opencdmo.analytics.forms import ModelRequestForm, SharingForm
from opencdmo.analytics.models import Alarm, MonitoringModel, Verdict
from opencdmo.core.tenancy import caller_organisation_ids, get_owned_or_404, get_visible_or_404
from opencdmo.manufacturing.models import Batch, ProcessDataFile
from opencdmo.projects.models import Product, Project
from opencdmo.quality import deviations
from opencdmo.quality.forms import SignForm
from opencdmo.quality.records import Deviation
from opencdmo.quality.views import signing_panel


@dataclass(frozen=True)
class AlarmRow:
    """An alarm with the deviations raised from it and whether the caller may raise one."""

    alarm: Alarm
    deviations: list[Deviation]
    may_raise: bool


def _alarm_rows(user: Any, alarms: Iterable[Alarm]) -> list[AlarmRow]:
    found = list(alarms)
    raised = deviations.raised_from_alarms(a.pk for a in found)
    own = caller_organisation_ids(user) if user.can(EDIT_BATCHES) else []
    return [AlarmRow(a, raised.get(a.pk, []), a.batch.cdmo_id in own) for a in found]


@login_required
def monitoring(request: HttpRequest) -> HttpResponse:
    """Models of the caller's CDMO, and the verdicts and alarms of the caller's batches."""
    context = {
        "models": MonitoringModel.objects.select_related("site", "product")[:100],
        "verdicts": Verdict.objects.select_related("batch")[:50],
        "alarms": _alarm_rows(
            request.user, Alarm.objects.select_related("batch").order_by("-created_at")[:50]
        ),
        "running": Batch.objects.filter(state="running").select_related("project")[:50],
        "projects": Project.objects.filter(cdmo=request.user.organisation_id)
        if request.user.can(BUILD_MODELS)
        else [],
    }
    return render(request, "analytics/monitoring.html", context)


@login_required
def model_new(request: HttpRequest, pk: int) -> HttpResponse:
    """An MSAT engineer picks reference batches of a project's product at its site."""
    if not request.user.can(BUILD_MODELS):
        raise PermissionDenied("Your role may not build monitoring models.")
    project = get_owned_or_404(Project, request.user, pk=pk)
    site = project.site
    with scopes_disabled():
        product = Product.objects.get(pk=project.product_id)
    candidates = list(services.reference_candidates(site, product))
    form = ModelRequestForm(request.POST or None, batches=candidates)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            model = services.request_model(
                request.user,
                site=site,
                product=product,
                batches=[b for b in candidates if str(b.pk) in data["batches"]],
                quality_attribute=data["quality_attribute"],
                n_components=data["n_components"],
                reason=data["reason"],
            )
        except ValidationError as exc:
            for field, found in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, found)
        else:
            messages.success(request, f"{model} is queued; this page shows its progress.")
            return redirect("analytics:model", model.pk)
    context = {"form": form, "project": project, "product": product}
    return render(request, "analytics/model_new.html", context, status=400 if form.errors else 200)


def _model_page(
    request: HttpRequest, model: MonitoringModel, form: SignForm | None = None
) -> HttpResponse:
    if request.htmx and not model.busy:
        # The fit ended while the page polled its status: reload it whole, with the
        # summary, the reference batches and the signing form.
        return HttpResponseClientRefresh()
    summary = model.summary or {}
    panel = None
    if model.status == MonitoringModel.Status.FITTED:
        panel = signing_panel(
            request, model, reverse("analytics:model-sign", args=[model.pk]), form
        )
    loadings = sorted(
        ((name, values) for name, values in (summary.get("loadings") or {}).items()),
        key=lambda item: -sum(item[1]),
    )
    context = {
        "model": model,
        "summary": summary,
        "loadings": loadings,
        "reference": summary.get("reference", []),
        "panel": panel,
        "approved": services.is_approved(model),
    }
    template = "analytics/_model_status.html" if request.htmx else "analytics/model_detail.html"
    status = 400 if form is not None and form.errors else 200
    return render(request, template, context, status=status)


@login_required
def model_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _model_page(request, get_visible_or_404(MonitoringModel, request.user, pk=pk))


@login_required
@require_POST
def model_sign(request: HttpRequest, pk: int) -> HttpResponse:
    """QA approves the model by electronic signature; a refusal shows the form again."""
    if not request.user.can(SIGN_RECORDS):
        raise PermissionDenied("Your role may not sign records.")
    model = get_visible_or_404(MonitoringModel, request.user, pk=pk)
    form = SignForm(request.POST, meanings=("approved",), needs_code=request.user.has_two_factor)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.approve_model(
                request.user,
                model,
                password=data["password"],
                totp_code=data.get("totp_code", ""),
                reason=data["reason"],
                seen_sha256=data["seen_sha256"],
            )
        except ValidationError as exc:
            for field, found in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, found)
        else:
            messages.success(request, f"{model} is approved; it judges batches from now on.")
            return redirect("analytics:model", model.pk)
    return _model_page(request, model, form)


def _envelopes(live: services.Live) -> list[str]:
    loaded, trace = live.loaded, live.trace
    reference = loaded.reference
    hours = loaded.hours()
    mean = reference.mean(axis=0)
    sd = reference.std(axis=0, ddof=1)
    found = []
    units = (live.model.summary or {}).get("units", {})
    for j, name in enumerate(loaded.variables):
        unit = units.get(name, "")
        found.append(
            charts.envelope_chart(
                f"{name} ({unit})" if unit else name,
                hours,
                mean[:, j],
                mean[:, j] - 3 * sd[:, j],
                mean[:, j] + 3 * sd[:, j],
                trace.time_h if trace else None,
                trace.values[:, j] if trace else None,
            )
        )
    return found


def _live_token(batch: Batch) -> str:
    """What the live part shows depends on: the batch's state, its newest data version, its
    alarms and verdicts. Equal tokens, equal live part."""
    with scopes_disabled():
        version = (
            ProcessDataFile.objects.filter(batch=batch)
            .order_by("-version")
            .values_list("version", flat=True)
            .first()
        )
        alarms = Alarm.objects.filter(batch=batch).count()
        verdicts = Verdict.objects.filter(batch=batch).count()
    return f"{batch.state}.{version or 0}.{alarms}.{verdicts}"


@login_required
def batch_monitoring(request: HttpRequest, pk: int) -> HttpResponse:
    """A batch against its approved model: live while it runs, its verdict once finished.

    Polled every second by htmx while the batch runs, with the token of what it shows: an
    unchanged batch is answered 204 (htmx keeps the page) after three small queries instead
    of scoring it again. The sponsor sees the raw trajectories and contributions only where
    the CDMO shares the project's process data.
    """
    batch = get_visible_or_404(Batch.objects.select_related("project", "site"), request.user, pk=pk)
    token = _live_token(batch)
    if request.headers.get(POLL_HEADER) and request.GET.get("since") == token:
        return HttpResponse(status=204)
    reads_data = services.sponsor_reads_data(request.user, batch)
    live = services.live(batch)
    context: dict[str, Any] = {
        "live_token": token,
        "batch": batch,
        "reads_data": reads_data,
        "live": live,
        "verdicts": Verdict.objects.filter(batch=batch),
        "alarms": _alarm_rows(
            request.user, Alarm.objects.filter(batch=batch).select_related("batch")
        ),
        "may_share": request.user.can(BUILD_MODELS)
        and batch.cdmo_id == request.user.organisation_id,
        "sharing": services.sharing_of(batch.project),
        "sharing_form": SharingForm(),
    }
    if live is not None and live.trace is not None:
        trace = live.trace
        total = live.loaded.duration_h
        link = reverse("analytics:batch", args=[batch.pk]) + "?sample={n}#contributions"
        context["t2_chart"] = mark_safe(
            charts.statistic_chart(
                "T2", total, trace.time_h, trace.t2, np.full(trace.n_samples, trace.t2_limit),
                link if reads_data else "",
            )
        )  # fmt: skip
        context["spe_chart"] = mark_safe(
            charts.statistic_chart(
                "SPE", total, trace.time_h, trace.spe, trace.spe_limit, link if reads_data else ""
            )
        )
        context["hour"] = float(trace.time_h[-1])
        if reads_data:
            context["envelopes"] = [mark_safe(svg) for svg in _envelopes(live)]
        if trace.prediction is not None and trace.low is not None and trace.high is not None:
            context["prediction"] = float(trace.prediction[-1])
            context["prediction_low"] = float(trace.low[-1])
            context["prediction_high"] = float(trace.high[-1])
            context["prediction_chart"] = mark_safe(
                charts.band_chart(
                    live.model.quality_attribute, total, trace.time_h, trace.prediction,
                    trace.low, trace.high,
                )
            )  # fmt: skip
        if reads_data and "sample" in request.GET:
            context.update(_contributions_at(live, request.GET["sample"]))
    template = "analytics/_live.html" if request.htmx else "analytics/batch_monitoring.html"
    return render(request, template, context)


def _contributions_at(live: services.Live, sample_text: str) -> dict[str, Any]:
    """Each variable's share of SPE at one aligned sample; nothing for a sample not reached."""
    try:
        sample = int(sample_text)
    except ValueError:
        return {}
    if live.trace is None or not 0 <= sample < live.trace.n_samples:
        return {}
    values = live.trace.contributions[sample]
    total = float(values.sum()) or 1.0
    rows = sorted(
        ((name, float(v) / total) for name, v in zip(live.loaded.variables, values, strict=True)),
        key=lambda row: -row[1],
    )
    return {"rows": rows, "hour": float(live.trace.time_h[sample]), "sample": sample}


@login_required
def contributions(request: HttpRequest, pk: int) -> HttpResponse:
    """Each variable's contribution to SPE at one aligned sample (``?sample=n``) of the batch."""
    try:
        sample = int(request.GET.get("sample", ""))
    except ValueError:
        sample = -1
    batch = get_visible_or_404(Batch.objects.select_related("project"), request.user, pk=pk)
    reads_data = services.sponsor_reads_data(request.user, batch)
    live = services.live(batch) if reads_data else None
    found = _contributions_at(live, str(sample)) if live is not None else {}
    context = {"rows": [], "hour": None, "sample": sample, "reads_data": reads_data, **found}
    return render(request, "analytics/_contributions.html", context)


@login_required
@require_POST
def project_sharing(request: HttpRequest, pk: int) -> HttpResponse:
    """The CDMO shares the project's raw process data with its sponsor, or stops sharing it."""
    if not request.user.can(BUILD_MODELS):
        raise PermissionDenied("Your role may not decide what the sponsor sees.")
    project = get_owned_or_404(Project, request.user, pk=pk)
    form = SharingForm(request.POST)
    back = request.POST.get("next") or reverse("analytics:monitoring")
    if not form.is_valid():
        messages.error(request, "Give a reason for the change.")
        return redirect(back if back.startswith("/") else "/")
    services.set_data_sharing(
        request.user,
        project,
        share=form.cleaned_data["share_process_data"],
        reason=form.cleaned_data["reason"],
    )
    messages.success(request, "What the sponsor sees is saved.")
    return redirect(back if back.startswith("/") and not back.startswith("//") else "/")
