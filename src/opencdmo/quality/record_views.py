"""Pages of deviations, CAPAs and batch review and disposition: parse, call one service,
render. A refused write shows the page again (400) with why, naming the field."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_scopes import scopes_disabled

from opencdmo.accounts.models import User
from opencdmo.accounts.roles import EDIT_BATCHES, EDIT_QUALITY, SIGN_RECORDS
from opencdmo.analytics.models import Alarm
from opencdmo.core.tables import TableError
from opencdmo.core.tenancy import get_changeable_or_404, get_owned_or_404, get_visible_or_404
from opencdmo.manufacturing.models import Batch
from opencdmo.projects.models import Project
from opencdmo.quality import capa as capas
from opencdmo.quality import deviations, disposition, pdf
from opencdmo.quality.models import DeviationClass
from opencdmo.quality.records import Capa, CapaAction, Deviation, Disposition, RootCause
from opencdmo.quality.views import signing_panel


def _errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [f"{field}: {' '.join(found)}" for field, found in exc.message_dict.items()]
    return list(exc.messages)


def _need(user: Any, permission: str) -> None:
    if not user.can(permission):
        raise PermissionDenied("Your role may not do this.")


def _attempt(
    request: HttpRequest, write: Callable[[], Any], done: str, again: Callable[[list[str]], Any]
) -> HttpResponse:
    try:
        write()
    except ValidationError as exc:
        response: HttpResponse = again(_errors(exc))
        return response
    messages.success(request, done)
    return redirect(request.path.rsplit("/", 2)[0] + "/")


# --- deviations ------------------------------------------------------------------------------


@login_required
def deviation_list(request: HttpRequest) -> HttpResponse:
    rows = Deviation.objects.select_related("project", "project__sponsor").prefetch_related(
        "batches"
    )
    return render(request, "quality/deviation_list.html", {"deviations": rows[:300]})


@login_required
def deviation_new(request: HttpRequest) -> HttpResponse:
    """CDMO staff raise a deviation of one of their projects, from a batch or by hand."""
    _need(request.user, EDIT_BATCHES)
    projects = Project.objects.filter(cdmo_id=request.user.organisation_id).order_by("name")
    batch = None
    if batch_id := request.GET.get("batch") or request.POST.get("batch"):
        batch = get_visible_or_404(Batch, request.user, pk=batch_id)
    errors: list[str] = []
    if request.method == "POST":
        data = request.POST
        project = batch.project if batch else projects.filter(pk=data.get("project") or 0).first()
        try:
            if project is None:
                raise ValidationError({"project": "Choose one of your projects."})
            deviation = deviations.raise_deviation(
                request.user,
                project,
                title=data.get("title", ""),
                description=data.get("description", ""),
                evidence=data.get("evidence", ""),
                batches=[batch] if batch else [],
                reason=data.get("reason", ""),
            )
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, f"{deviation.reference} raised; QA is told.")
            return redirect("quality:deviation", pk=deviation.pk)
    context = {"projects": projects, "batch": batch, "errors": errors, "data": request.POST}
    return render(request, "quality/deviation_new.html", context, status=400 if errors else 200)


@login_required
def deviation_from_alarm(request: HttpRequest, pk: int) -> HttpResponse:
    """CDMO staff raise a deviation from a monitoring alarm of their batch, the form filled
    from the alarm's evidence. For everyone else, the sponsor who reads the alarm included,
    there is nothing here (404): the action is the CDMO's own."""
    if not request.user.can(EDIT_BATCHES):
        raise Http404("No such object.")
    alarm: Alarm = get_owned_or_404(
        Alarm.objects.select_related("batch", "batch__project"), request.user, pk=pk
    )
    draft = deviations.alarm_draft(alarm)
    data: Any = {"title": draft.title, "description": draft.description, "evidence": draft.evidence}
    errors: list[str] = []
    if request.method == "POST":
        data = request.POST
        try:
            deviation = deviations.raise_from_alarm(
                request.user,
                alarm,
                title=data.get("title", ""),
                description=data.get("description", ""),
                evidence=data.get("evidence", ""),
                reason=data.get("reason", ""),
            )
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, f"{deviation.reference} raised from the alarm; QA is told.")
            return redirect("quality:deviation", pk=deviation.pk)
    context = {
        "alarm": alarm,
        "batch": alarm.batch,
        "earlier": deviations.raised_from_alarms([alarm.pk]).get(alarm.pk, []),
        "errors": errors,
        "data": data,
    }
    return render(request, "quality/deviation_new.html", context, status=400 if errors else 200)


def _deviation_page(request: HttpRequest, deviation: Deviation, errors: list[str]) -> HttpResponse:
    user = request.user
    panel = signing_panel(
        request, deviation, reverse("quality:deviation-close", args=[deviation.pk])
    )
    context = {
        "deviation": deviation,
        "panel": panel,
        "errors": errors,
        "is_qa": user.can(EDIT_QUALITY) and deviation.project.cdmo_id == user.organisation_id,
        "classes": DeviationClass.choices,
        "root_causes": RootCause.choices,
        "capas": deviation.capas.all(),
        "alarm": deviations.alarm_of(deviation),
        "agreement": deviations.quality.agreement_of(deviation.project),
    }
    return render(request, "quality/deviation_detail.html", context, status=400 if errors else 200)


@login_required
def deviation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    deviation = get_visible_or_404(Deviation, request.user, pk=pk)
    return _deviation_page(request, deviation, [])


def _qa_deviation(request: HttpRequest, pk: int) -> Deviation:
    _need(request.user, EDIT_QUALITY)
    deviation: Deviation = get_changeable_or_404(Deviation, request.user, pk=pk)
    return deviation


@login_required
@require_POST
def deviation_classify(request: HttpRequest, pk: int) -> HttpResponse:
    deviation = _qa_deviation(request, pk)
    data = request.POST
    return _attempt(
        request,
        lambda: deviations.classify(
            request.user,
            deviation,
            data.get("classification", ""),
            data.get("rationale", ""),
            data.get("reason", ""),
        ),
        "Classified; the sponsor is told.",
        lambda errors: _deviation_page(request, deviation, errors),
    )


@login_required
@require_POST
def deviation_investigate(request: HttpRequest, pk: int) -> HttpResponse:
    """Start the investigation, or record its root cause and findings."""
    deviation = _qa_deviation(request, pk)
    data = request.POST

    def write() -> Any:
        if deviation.state == Deviation.State.CLASSIFIED:
            return deviations.start_investigation(request.user, deviation, data.get("reason", ""))
        return deviations.record_investigation(
            request.user,
            deviation,
            data.get("root_cause", ""),
            data.get("investigation", ""),
            data.get("reason", ""),
        )

    return _attempt(
        request, write, "Investigation saved.", lambda e: _deviation_page(request, deviation, e)
    )


@login_required
@require_POST
def deviation_close(request: HttpRequest, pk: int) -> HttpResponse:
    deviation = _qa_deviation(request, pk)
    data = request.POST
    return _attempt(
        request,
        lambda: deviations.close(
            request.user,
            deviation,
            password=data.get("password", ""),
            totp_code=data.get("totp_code", ""),
            reason=data.get("reason", ""),
            seen_sha256=data.get("seen_sha256", ""),
        ),
        "Closed by your signature.",
        lambda errors: _deviation_page(request, deviation, errors),
    )


def _date(text: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationError({field: f"'{text}' is not a date (YYYY-MM-DD)."}) from None


@login_required
@require_POST
def capa_new(request: HttpRequest, pk: int) -> HttpResponse:
    deviation = _qa_deviation(request, pk)
    data = request.POST
    created: list[Capa] = []

    def write() -> None:
        created.append(
            capas.open_capa(
                request.user,
                deviation,
                title=data.get("title", ""),
                effectiveness_criteria=data.get("effectiveness_criteria", ""),
                effectiveness_due=_date(data.get("effectiveness_due", ""), "effectiveness_due"),
                reason=data.get("reason", ""),
            )
        )

    try:
        write()
    except ValidationError as exc:
        return _deviation_page(request, deviation, _errors(exc))
    return redirect("quality:capa", pk=created[0].pk)


# --- CAPA ------------------------------------------------------------------------------------


def _capa_page(request: HttpRequest, capa: Capa, errors: list[str]) -> HttpResponse:
    user = request.user
    owners: Any = []
    if user.can(EDIT_QUALITY) and capa.deviation.project.cdmo_id == user.organisation_id:
        with scopes_disabled():
            owners = User.objects.filter(
                organisation_id=user.organisation_id, is_active=True
            ).order_by("username")
    context = {
        "capa": capa,
        "actions": capa.actions.select_related("owner"),
        "owners": owners,
        "is_qa": bool(owners),
        "errors": errors,
        "today": dt.date.today(),
    }
    return render(request, "quality/capa_detail.html", context, status=400 if errors else 200)


@login_required
def capa_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _capa_page(request, get_visible_or_404(Capa, request.user, pk=pk), [])


@login_required
@require_POST
def capa_action_new(request: HttpRequest, pk: int) -> HttpResponse:
    _need(request.user, EDIT_QUALITY)
    capa = get_changeable_or_404(Capa, request.user, pk=pk)
    data = request.POST

    def write() -> None:
        with scopes_disabled():
            owner = User.objects.filter(
                pk=data.get("owner") or 0, organisation_id=request.user.organisation_id
            ).first()
        if owner is None:
            raise ValidationError({"owner": "Choose a person of your organisation."})
        capas.add_action(
            request.user,
            capa,
            description=data.get("description", ""),
            owner=owner,
            due_on=_date(data.get("due_on", ""), "due_on"),
            reason=data.get("reason", ""),
        )

    return _attempt(request, write, "Action added.", lambda e: _capa_page(request, capa, e))


@login_required
@require_POST
def capa_action_done(request: HttpRequest, pk: int) -> HttpResponse:
    action = get_changeable_or_404(CapaAction, request.user, pk=pk)
    try:
        capas.complete_action(request.user, action, request.POST.get("reason", ""))
    except ValidationError as exc:
        return _capa_page(request, action.capa, _errors(exc))
    messages.success(request, "Action done.")
    return redirect("quality:capa", pk=action.capa_id)


@login_required
@require_POST
def capa_effectiveness(request: HttpRequest, pk: int) -> HttpResponse:
    _need(request.user, EDIT_QUALITY)
    capa = get_changeable_or_404(Capa, request.user, pk=pk)
    data = request.POST
    return _attempt(
        request,
        lambda: capas.check_effectiveness(
            request.user,
            capa,
            effective=data.get("effective") == "yes",
            result=data.get("result", ""),
            reason=data.get("reason", ""),
        ),
        "Effectiveness check recorded.",
        lambda e: _capa_page(request, capa, e),
    )


# --- batch review and disposition ------------------------------------------------------------


def _review_page(request: HttpRequest, batch: Batch, errors: list[str]) -> HttpResponse:
    user = request.user
    review = disposition.review_of(batch)
    sponsor_panel = None
    found = review.disposition
    if found is not None:
        sponsor_panel = signing_panel(
            request, found, reverse("quality:disposition-sponsor", args=[found.pk])
        )
    context = {
        "review": review,
        "batch": batch,
        "errors": errors,
        "is_cdmo_qa": user.can(EDIT_QUALITY) and batch.cdmo_id == user.organisation_id,
        "is_sponsor_qa": user.can(SIGN_RECORDS)
        and not user.can(EDIT_QUALITY)
        and batch.project.sponsor_id == user.organisation_id,
        "may_import": user.can(EDIT_BATCHES) and batch.cdmo_id == user.organisation_id,
        "panel": sponsor_panel,
        "needs_code": user.has_two_factor,
    }
    return render(request, "quality/batch_review.html", context, status=400 if errors else 200)


@login_required
def batch_review(request: HttpRequest, pk: int) -> HttpResponse:
    return _review_page(request, get_visible_or_404(Batch, request.user, pk=pk), [])


@login_required
@require_POST
def batch_lims(request: HttpRequest, pk: int) -> HttpResponse:
    """Offline results from a LIMS CSV, all or nothing."""
    batch = get_changeable_or_404(Batch, request.user, pk=pk)
    upload = request.FILES.get("file")
    if upload is None:
        return _review_page(request, batch, ["file: Choose a CSV file."])
    try:
        written = disposition.import_lims(request.user, batch, upload.read(), upload.name or "")
    except (TableError, ValidationError) as exc:
        text = str(exc) if isinstance(exc, TableError) else " ".join(_errors(exc))
        return _review_page(request, batch, [text])
    messages.success(request, f"Imported {len(written)} results from {upload.name}.")
    return redirect("quality:batch-review", pk=batch.pk)


@login_required
@require_POST
def batch_dispose(request: HttpRequest, pk: int) -> HttpResponse:
    _need(request.user, EDIT_QUALITY)
    batch = get_changeable_or_404(Batch, request.user, pk=pk)
    data = request.POST
    try:
        disposition.dispose(
            request.user,
            batch,
            decision=data.get("decision", ""),
            password=data.get("password", ""),
            totp_code=data.get("totp_code", ""),
            reason=data.get("reason", ""),
        )
    except ValidationError as exc:
        return _review_page(request, batch, _errors(exc))
    messages.success(request, "Signed.")
    return redirect("quality:batch-review", pk=batch.pk)


@login_required
@require_POST
def disposition_sponsor(request: HttpRequest, pk: int) -> HttpResponse:
    """The sponsor QA's step; the CDMO's people are refused (403)."""
    _need(request.user, SIGN_RECORDS)
    found: Disposition = get_visible_or_404(Disposition, request.user, pk=pk)
    data = request.POST
    try:
        disposition.sponsor_decide(
            request.user,
            found,
            decision=data.get("decision", ""),
            password=data.get("password", ""),
            totp_code=data.get("totp_code", ""),
            reason=data.get("reason", ""),
            seen_sha256=data.get("seen_sha256", ""),
        )
    except ValidationError as exc:
        return _review_page(request, found.batch, _errors(exc))
    messages.success(request, "Signed.")
    return redirect("quality:batch-review", pk=found.batch_id)


def _pdf(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


@login_required
def batch_coa(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_visible_or_404(Batch, request.user, pk=pk)
    return _pdf(pdf.certificate_of_analysis(batch), f"CoA-{batch.lot}.pdf")


@login_required
def batch_disposition_report(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_visible_or_404(Batch, request.user, pk=pk)
    return _pdf(pdf.disposition_report(batch), f"disposition-{batch.lot}.pdf")
