"""API: a project's controlled documents, their versions and the versions' files.

Read only: the two parties of the project read its documents (anyone else 404), each version
with its SHA-256, state, the people named to review and approve it and their signatures. A
file is served only when its stored bytes still hash to the version's SHA-256.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from django_scopes import scopes_disabled
from ninja import Field, Router, Schema, Status

from opencdmo.api_errors import ErrorOut, answers
from opencdmo.core.tenancy import get_visible_or_404
from opencdmo.projects import document_services as services
from opencdmo.projects.documents import Document, DocumentVersion
from opencdmo.projects.models import Project
from opencdmo.quality.api import SignatureOut, file_answer, file_answers, signature_rows

router = Router(tags=["documents"])


class DocumentOut(Schema):
    id: int
    project: int
    number: str
    title: str = Field(..., description="The shown version's title")
    version: int | None = Field(..., description="The effective version, else the latest")
    state: str | None = Field(..., description="That version's state")
    effective_version: int | None
    created_at: dt.datetime


class RouteOut(Schema):
    username: str
    name: str
    organisation: str
    step: str = Field(..., description="review or approve")
    signed: bool = Field(..., description="Holds a current signature of the step's meaning")


class VersionOut(Schema):
    id: int
    version: int
    title: str
    summary: str
    file_name: str
    content_type: str
    size_bytes: int
    sha256: str = Field(..., description="SHA-256 of the file")
    state: str = Field(
        ..., description="draft, in_review, approved, effective, superseded or obsolete"
    )
    uploaded_by: str | None
    uploaded_at: dt.datetime
    effective_at: dt.datetime | None
    content_sha256: str = Field(..., description="SHA-256 of the signed content (metadata)")
    routes: list[RouteOut]
    signatures: list[SignatureOut]
    file: str = Field(..., description="Path of the file under /api/v1")


class DocumentDetailOut(Schema):
    id: int
    project: int
    number: str
    created_at: dt.datetime
    versions: list[VersionOut] = Field(..., description="The effective version first")


def _document(document: Document) -> dict[str, Any]:
    shown = services.shown_version(document)
    with scopes_disabled():
        effective = document.versions.filter(state=DocumentVersion.State.EFFECTIVE).first()
    return {
        "id": document.pk,
        "project": document.project_id,
        "number": document.number,
        "title": shown.title if shown else "",
        "version": shown.version if shown else None,
        "state": shown.state if shown else None,
        "effective_version": effective.version if effective else None,
        "created_at": document.created_at,
    }


def _version(version: DocumentVersion) -> dict[str, Any]:
    waiting = {r.pk for r in services.outstanding(version)}
    with scopes_disabled():
        routes = [
            {
                "username": r.user.username,
                "name": r.user.get_full_name() or r.user.username,
                "organisation": r.user.organisation.slug if r.user.organisation_id else "",
                "step": r.step,
                "signed": r.pk not in waiting,
            }
            for r in services.routes_of(version)
        ]
        uploader = version.uploaded_by.username if version.uploaded_by_id else None
    return {
        "id": version.pk,
        "version": version.version,
        "title": version.title,
        "summary": version.summary,
        "file_name": version.file_name,
        "content_type": version.content_type,
        "size_bytes": version.size_bytes,
        "sha256": version.sha256,
        "state": version.state,
        "uploaded_by": uploader,
        "uploaded_at": version.uploaded_at,
        "effective_at": version.effective_at,
        "content_sha256": services.signing.content_sha256(
            services.signing.canonical_content(version)
        ),
        "routes": routes,
        "signatures": signature_rows(version),
        "file": f"/document-versions/{version.pk}/file",
    }


@router.get(
    "/projects/{project_id}/documents",
    response=answers(list[DocumentOut], 400, 401, 403, 404, 422),
    summary="A project's documents, each with its effective version (else its latest)",
)
def list_documents(request: HttpRequest, project_id: int) -> list[dict[str, Any]]:
    project = get_visible_or_404(Project, request.user, pk=project_id)
    with scopes_disabled():
        documents = list(project.documents.all())
    return [_document(d) for d in documents]


@router.get(
    "/documents/{document_id}",
    response=answers(DocumentDetailOut, 400, 401, 403, 404, 422),
    summary="A document: its versions with SHA-256, state, routes and signatures",
)
def get_document(request: HttpRequest, document_id: int) -> dict[str, Any]:
    document = get_visible_or_404(Document, request.user, pk=document_id)
    with scopes_disabled():
        versions = list(document.versions.all())
    versions.sort(key=lambda v: (v.state != DocumentVersion.State.EFFECTIVE, -v.version))
    return {
        "id": document.pk,
        "project": document.project_id,
        "number": document.number,
        "created_at": document.created_at,
        "versions": [_version(v) for v in versions],
    }


@router.get(
    "/document-versions/{version_id}/file",
    response={**file_answers(400, 401, 403, 404, 422), 409: ErrorOut},
    summary="A version's file, served only while it matches its SHA-256",
    openapi_extra=file_answer("application/octet-stream", "The file's bytes, as an attachment"),
)
def get_version_file(request: HttpRequest, version_id: int) -> Any:
    """409 when the stored bytes are not the uploaded ones: a changed file is never served."""
    version = get_visible_or_404(DocumentVersion, request.user, pk=version_id)
    try:
        with services.open_file(version) as handle:
            data = handle.read()
    except OSError:
        data = None
    if data is None or hashlib.sha256(data).hexdigest() != version.sha256:
        return Status(
            409,
            {
                "detail": f"The stored file of version {version.version} does not match its "
                "SHA-256; it is not served."
            },
        )
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(True, version.file_name)
    response["X-Content-SHA256"] = version.sha256
    return response
