"""Quality agreements: the list, one agreement with its signatures, writing and signing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from opencdmo.accounts.roles import EDIT_QUALITY
from opencdmo.core.inputs import add_service_errors
from opencdmo.core.tenancy import get_changeable_or_404, get_owned_or_404, get_visible_or_404
from opencdmo.projects.models import Project
from opencdmo.quality import services, signing
from opencdmo.quality.forms import AgreementForm, SignForm
from opencdmo.quality.models import QualityAgreement


@dataclass(frozen=True)
class SigningPanel:
    """What the signature fragments show for one record: its signatures, and a signing form
    for a caller who may sign it (``None`` otherwise)."""

    signatures: list[services.ShownSignature]
    form: SignForm | None
    action: str
    content_sha256: str


def signing_panel(
    request: HttpRequest, record: models.Model, action: str, form: SignForm | None = None
) -> SigningPanel:
    """The fragments' context for ``record``; the form carries the content hash shown now."""
    signable = signing.signable_of(record)
    digest = signing.content_sha256(signing.canonical_content(record))
    user = request.user
    if form is None and user.can(signable.permission):
        form = SignForm(
            initial={"seen_sha256": digest},
            meanings=signable.meanings,
            needs_code=user.has_two_factor,
        )
    return SigningPanel(services.signatures_of(record), form, action, digest)


@login_required
def agreement_list(request: HttpRequest) -> HttpResponse:
    """The caller's organisation's agreements, and for CDMO QA the projects still without one."""
    agreements = QualityAgreement.objects.select_related("project").order_by("project__name")
    rows = [(a, services.approvals(a)) for a in agreements]
    without: Any = []
    if request.user.can(EDIT_QUALITY):
        without = Project.objects.filter(
            cdmo=request.user.organisation, quality_agreement__isnull=True
        ).order_by("name")
    return render(request, "quality/agreement_list.html", {"rows": rows, "without": without})


def _detail(
    request: HttpRequest, agreement: QualityAgreement, form: SignForm | None = None
) -> HttpResponse:
    action = reverse("quality:agreement-sign", args=[agreement.pk])
    panel = signing_panel(request, agreement, action, form)
    context = {
        "agreement": agreement,
        "approvals": services.approvals(agreement),
        "panel": panel,
        "stale": any(not shown.current for shown in panel.signatures),
        "may_edit": QualityAgreement.tenancy.may_change(request.user, agreement),
    }
    status = 400 if form is not None and form.errors else 200
    return render(request, "quality/agreement_detail.html", context, status=status)


@login_required
def agreement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, get_visible_or_404(QualityAgreement, request.user, pk=pk))


@login_required
@require_POST
def agreement_sign(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve the agreement by e-signature; a refusal shows the form again with why."""
    if not request.user.can(signing.signable_of(QualityAgreement).permission):
        raise PermissionDenied("Your role may not sign records.")
    agreement = get_visible_or_404(QualityAgreement, request.user, pk=pk)
    signable = signing.signable_of(agreement)
    form = SignForm(
        request.POST, meanings=signable.meanings, needs_code=request.user.has_two_factor
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            signature = services.sign(
                request.user,
                agreement,
                data["meaning"],
                data["password"],
                data.get("totp_code", ""),
                data["reason"],
                data["seen_sha256"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Signed: {signature}.")
            return redirect("quality:agreement", pk=agreement.pk)
    return _detail(request, agreement, form)


def _saved(request: HttpRequest, form: AgreementForm, write: Any) -> HttpResponse | None:
    if request.method != "POST" or not form.is_valid():
        return None
    data = dict(form.cleaned_data)
    reason = data.pop("reason")
    try:
        agreement = write(data, reason)
    except ValidationError as exc:
        add_service_errors(form, exc)
        return None
    messages.success(request, "The quality agreement is saved.")
    return redirect("quality:agreement", pk=agreement.pk)


@login_required
def agreement_new(request: HttpRequest, pk: int) -> HttpResponse:
    """The CDMO's QA writes a project's quality agreement."""
    if not request.user.can(EDIT_QUALITY):
        raise PermissionDenied("Your role may not write quality agreements.")
    project = get_owned_or_404(Project, request.user, pk=pk)
    form = AgreementForm(request.POST or None, reason_required=False)
    saved = _saved(
        request,
        form,
        lambda data, reason: services.create_agreement(request.user, project, data, reason),
    )
    if saved is not None:
        return saved
    existing = QualityAgreement.objects.filter(project=project).first()
    context = {"form": form, "project": project, "agreement": None, "existing": existing}
    status = 400 if form.errors else 200
    return render(request, "quality/agreement_form.html", context, status=status)


@login_required
def agreement_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change the terms; earlier signatures show as 'changed since signing'."""
    agreement = get_changeable_or_404(QualityAgreement, request.user, pk=pk)
    form = AgreementForm(request.POST or None, instance=agreement, reason_required=True)
    saved = _saved(
        request,
        form,
        lambda data, reason: services.update_agreement(request.user, agreement, data, reason),
    )
    if saved is not None:
        return saved
    context = {"form": form, "project": agreement.project, "agreement": agreement}
    status = 400 if form.errors else 200
    return render(request, "quality/agreement_form.html", context, status=status)
