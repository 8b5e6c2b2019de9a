"""Pages of a project's controlled documents: list, one document, its versions' actions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST
from django_scopes import scopes_disabled

from opencdmo.accounts.roles import SIGN_RECORDS
from opencdmo.core.inputs import add_service_errors
from opencdmo.core.tenancy import get_visible_or_404
from opencdmo.projects import document_services as services
from opencdmo.projects.document_forms import (
    MetadataForm,
    ReasonForm,
    RouteForm,
    UploadForm,
    VersionForm,
)
from opencdmo.projects.documents import Document, DocumentVersion
from opencdmo.projects.models import Project
from opencdmo.quality.forms import SignForm
from opencdmo.quality.views import signing_panel


def _list(request: HttpRequest, project: Project, form: UploadForm | None = None) -> HttpResponse:
    with scopes_disabled():
        documents = list(project.documents.all())
    rows = [(d, services.shown_version(d)) for d in documents]
    context = {"project": project, "rows": rows, "form": form or UploadForm()}
    return render(request, "projects/document_list.html", context, status=400 if form else 200)


@login_required
def document_list(request: HttpRequest, pk: int) -> HttpResponse:
    """The project's documents, each with its effective version (else its latest)."""
    return _list(request, get_visible_or_404(Project, request.user, pk=pk))


@login_required
@require_POST
def document_upload(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_visible_or_404(Project, request.user, pk=pk)
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            version = services.upload_document(
                project,
                actor=request.user,
                number=data["number"],
                title=data["title"],
                summary=data["summary"],
                upload=data["file"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Uploaded {version}.")
            return redirect("projects:document", pk=version.document_id)
    return _list(request, project, form)


def _detail(
    request: HttpRequest, document: Document, status: int = 200, **forms: Any
) -> HttpResponse:
    wanted = request.GET.get("version", "")
    version = services.shown_version(document, int(wanted) if wanted.isdigit() else None)
    with scopes_disabled():
        project = document.project
        versions = list(document.versions.all())
    context: dict[str, Any] = {
        "document": document,
        "project": project,
        "version": version,
        "versions": versions,
        "version_form": forms.get("version_form") or VersionForm(),
        "errors": forms.get("errors", []),
    }
    if version is not None:
        panel = signing_panel(
            request, version, f"/document-versions/{version.pk}/sign/", forms.get("sign_form")
        )
        context.update(
            panel=panel,
            routes=services.routes_of(version),
            outstanding={r.pk for r in services.outstanding(version)},
            changed=any(not s.current for s in panel.signatures),
            route_form=forms.get("route_form") or RouteForm(project=project),
            metadata_form=forms.get("metadata_form")
            or MetadataForm(initial={"title": version.title, "summary": version.summary}),
            may_make_effective=request.user.can(SIGN_RECORDS),
        )
    return render(request, "projects/document_detail.html", context, status=status)


@login_required
def document_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One document: the effective version by default (``?version=`` shows another)."""
    return _detail(request, get_visible_or_404(Document, request.user, pk=pk))


@login_required
@require_POST
def version_upload(request: HttpRequest, pk: int) -> HttpResponse:
    document = get_visible_or_404(Document, request.user, pk=pk)
    form = VersionForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            version = services.upload_version(
                document,
                actor=request.user,
                title=data["title"],
                summary=data["summary"],
                upload=data["file"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Uploaded {version}.")
            return redirect(f"/documents/{document.pk}/?version={version.version}")
    return _detail(request, document, 400, version_form=form)


def _version(request: HttpRequest, pk: int) -> tuple[DocumentVersion, Document]:
    version = get_visible_or_404(DocumentVersion, request.user, pk=pk)
    with scopes_disabled():
        return version, version.document


def _back(version: DocumentVersion) -> HttpResponse:
    return redirect(f"/documents/{version.document_id}/?version={version.version}")


@login_required
@require_POST
def version_submit(request: HttpRequest, pk: int) -> HttpResponse:
    version, document = _version(request, pk)
    with scopes_disabled():
        project = document.project
    form = RouteForm(request.POST, project=project)
    if form.is_valid():
        try:
            services.submit_for_review(
                version,
                actor=request.user,
                reviewers=form.cleaned_data["reviewers"],
                approvers=form.cleaned_data["approvers"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Sent for review.")
            return _back(version)
    return _again(request, version, document, route_form=form)


def _again(
    request: HttpRequest, version: DocumentVersion, document: Document, **forms: Any
) -> HttpResponse:
    request.GET = request.GET.copy()
    request.GET["version"] = str(version.version)
    errors = [e for form in forms.values() for e in form.non_field_errors()]
    return _detail(request, document, 400, errors=errors, **forms)


@login_required
@require_POST
def version_edit(request: HttpRequest, pk: int) -> HttpResponse:
    version, document = _version(request, pk)
    form = MetadataForm(request.POST)
    if form.is_valid():
        data = dict(form.cleaned_data)
        try:
            services.edit_version(version, actor=request.user, reason=data.pop("reason"), **data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Saved.")
            return _back(version)
    return _again(request, version, document, metadata_form=form)


@login_required
@require_POST
def version_sign(request: HttpRequest, pk: int) -> HttpResponse:
    """Review or approve a version by e-signature, as one of the people named for it."""
    version, document = _version(request, pk)
    form = SignForm(
        request.POST,
        meanings=services.signing.signable_of(version).meanings,
        needs_code=request.user.has_two_factor,
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            signature = services.sign_version(
                version,
                request.user,
                meaning=data["meaning"],
                password=data["password"],
                totp_code=data.get("totp_code", ""),
                reason=data["reason"],
                seen_sha256=data["seen_sha256"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Signed: {signature}.")
            return _back(version)
    return _again(request, version, document, sign_form=form)


def _reasoned(request: HttpRequest, pk: int, write: Any, done: str) -> HttpResponse:
    version, document = _version(request, pk)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            write(version, actor=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            messages.error(request, " ".join(m for ms in exc.message_dict.values() for m in ms))
            return _again(request, version, document, reason_form=form)
        messages.success(request, done)
        return _back(version)
    return _again(request, version, document, reason_form=form)


@login_required
@require_POST
def version_effective(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.can(SIGN_RECORDS):
        raise PermissionDenied("Your role may not make documents effective.")
    return _reasoned(request, pk, services.make_effective, "The version is effective.")


@login_required
@require_POST
def version_obsolete(request: HttpRequest, pk: int) -> HttpResponse:
    return _reasoned(request, pk, services.make_obsolete, "The version is obsolete.")


@login_required
def version_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The version's file, to the project's parties only (404 for anyone else); always as an
    attachment, never rendered by the browser."""
    version, _ = _version(request, pk)
    with services.open_file(version) as handle:
        data = handle.read()
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(True, version.file_name)
    return response
