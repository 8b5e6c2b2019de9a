"""API: deviations, CAPA, batch review and disposition, and electronic signatures.

Every record here is the project's CDMO's, shared with its sponsor: both read it, anyone else
gets 404. Writes call the same audited services as the pages, with the same checks: the CDMO's
QA classifies, investigates, closes and dispositions (a sponsor is answered 403), the sponsor's
QA takes its own release step (the CDMO's people 403). A signature through the API is the
page's signature: the body carries the password (and the authenticator code), a wrong one is
refused with 400, goes on the audit trail and counts toward the account's lockout.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django_scopes import scopes_disabled
from ninja import Field, Query, Router, Schema, Status

from opencdmo.accounts.models import User
from opencdmo.accounts.roles import EDIT_BATCHES, EDIT_QUALITY, SIGN_RECORDS
from opencdmo.analytics.models import Alarm
from opencdmo.api_errors import answers
from opencdmo.core.inputs import InputSchema
from opencdmo.core.tenancy import (
    caller_organisation_ids,
    get_changeable_or_404,
    get_visible_or_404,
    tenancy_of,
)
from opencdmo.manufacturing.api import LARGEST_ID, OfflineResultOut
from opencdmo.manufacturing.models import Batch
from opencdmo.projects.models import Project
from opencdmo.quality import capa as capas
from opencdmo.quality import deviations, disposition, pdf, services, signing
from opencdmo.quality.models import Signature
from opencdmo.quality.records import Capa, CapaAction, Deviation, Disposition

router = Router(tags=["quality"])

LIST_LIMIT = 500
"""The most records a list answers, newest first."""


# --- answers ---------------------------------------------------------------------------------


class SignatureOut(Schema):
    """One signature as the record's page shows it (21 CFR 11.50)."""

    id: int
    signer_name: str = Field(..., description="The signer's printed name when signing")
    organisation: str = Field(..., description="The signer's organisation (slug)")
    meaning: str = Field(..., description="authored, reviewed, approved, released or rejected")
    signed_at: dt.datetime = Field(..., description="UTC")
    reason: str
    record_type: str = Field(..., description="app_label.model of the signed record")
    record_id: str
    content_sha256: str = Field(..., description="SHA-256 of the content signed")
    current: bool = Field(..., description="The record's content is still the signed one")
    changed: list[str] = Field(..., description="Fields changed since signing")


class BatchRefOut(Schema):
    id: int
    lot: str


class CapaRefOut(Schema):
    id: int
    reference: str
    title: str
    state: str


class DeviationOut(Schema):
    id: int
    reference: str = Field(..., description="DEV-0007")
    project: int
    title: str
    state: str = Field(..., description="open, classified, under_investigation or closed")
    classification: str = Field(..., description="minor, major, critical; '' until classified")
    raised_at: dt.datetime
    raised_by: str | None = Field(..., description="Username of whoever raised it")
    batches: list[BatchRefOut]
    notice_due_at: dt.datetime | None = Field(
        ..., description="When the sponsor is to be told at the latest (agreement's hours)"
    )
    sponsor_notified_at: dt.datetime | None
    notice_late: bool = Field(..., description="The sponsor was (or still is) not told in time")
    closed_at: dt.datetime | None


class SourceOut(Schema):
    type: str = Field(..., description="app_label.model of the record it was raised from")
    id: str


class DeviationDetailOut(DeviationOut):
    description: str
    evidence: str
    source: SourceOut | None = Field(..., description="The record it was raised from, if any")
    classification_rationale: str
    classified_at: dt.datetime | None
    root_cause: str = Field(..., description="The root-cause category; '' until recorded")
    investigation: str
    capas: list[CapaRefOut]
    content_sha256: str = Field(..., description="Send as seen_sha256 to sign what you read")
    signatures: list[SignatureOut]


class ActionOut(Schema):
    id: int
    description: str
    owner: str = Field(..., description="Username of the person who owns it")
    owner_name: str
    due_on: dt.date
    done_at: dt.datetime | None
    overdue: bool


class CapaOut(Schema):
    id: int
    reference: str = Field(..., description="CAPA-0003")
    deviation: int
    deviation_reference: str
    project: int
    title: str
    state: str = Field(..., description="open, effectiveness_check, closed or ineffective")
    effectiveness_due: dt.date
    effectiveness_overdue: bool = Field(..., description="Not closed and past its check's date")
    overdue_actions: int
    created_at: dt.datetime


class CapaDetailOut(CapaOut):
    effectiveness_criteria: str
    effectiveness_result: str
    actions: list[ActionOut]


class DispositionOut(Schema):
    id: int
    batch: int
    decision: str = Field(..., description="The CDMO QA's: release or reject")
    state: str = Field(..., description="awaiting_sponsor, released or rejected")
    decided_at: dt.datetime
    sponsor_decision: str = Field(..., description="release, reject, or '' before it")
    sponsor_decided_at: dt.datetime | None
    content_sha256: str = Field(..., description="Send as seen_sha256 for the sponsor's step")
    signatures: list[SignatureOut]


class ReviewDeviationOut(Schema):
    id: int
    reference: str
    title: str
    state: str
    classification: str


class ReviewOut(Schema):
    batch: int
    lot: str
    batch_state: str
    results: list[OfflineResultOut] = Field(..., description="Offline results vs their specs")
    deviations: list[ReviewDeviationOut]
    verdict: str | None = Field(..., description="The monitoring's process-data verdict")
    blockers: list[str] = Field(..., description="Why the CDMO's disposition cannot happen yet")
    sponsor_release_required: bool
    disposition: DispositionOut | None


# --- requests --------------------------------------------------------------------------------


class DeviationFilter(Schema):
    project: int | None = Field(None, ge=1, le=LARGEST_ID, description="Project id")
    state: Literal["open", "classified", "under_investigation", "closed"] | None = None
    classification: Literal["minor", "major", "critical"] | None = None
    batch: int | None = Field(None, ge=1, le=LARGEST_ID, description="Batch id")


class CapaFilter(Schema):
    project: int | None = Field(None, ge=1, le=LARGEST_ID, description="Project id")
    deviation: int | None = Field(None, ge=1, le=LARGEST_ID, description="Deviation id")
    state: Literal["open", "effectiveness_check", "closed", "ineffective"] | None = None


class SignatureFilter(Schema):
    record_type: str | None = Field(None, max_length=100, description="app_label.model")
    record_id: str | None = Field(None, max_length=64)


class RaiseIn(InputSchema):
    project: int = Field(..., ge=1, le=LARGEST_ID, description="One of your CDMO's projects")
    title: str = Field(..., min_length=1, max_length=200)
    description: str = Field(..., min_length=1, max_length=10000)
    evidence: str = Field("", max_length=10000)
    batches: list[int] = Field(default_factory=list, description="Ids of batches affected")
    alarm: int | None = Field(
        None, ge=1, le=LARGEST_ID, description="Id of the monitoring alarm it is raised from"
    )
    reason: str = Field("", max_length=2000)


class ClassifyIn(InputSchema):
    classification: Literal["minor", "major", "critical"]
    rationale: str = Field(..., max_length=10000)
    reason: str = Field(..., min_length=1, max_length=2000, description="Why, for the audit trail")


class InvestigateIn(InputSchema):
    root_cause: (
        Literal[
            "equipment",
            "materials",
            "method",
            "personnel",
            "environment",
            "documentation",
            "unknown",
        ]
        | None
    ) = Field(None, description="Needed to record findings")
    investigation: str = Field("", max_length=20000)
    reason: str = Field(..., min_length=1, max_length=2000, description="Why, for the audit trail")


class SignIn(InputSchema):
    """Re-authentication at every signing (21 CFR 11.200): the password, and the current
    authenticator code for a user with two-factor sign-in."""

    password: str = Field(..., max_length=4096)
    totp_code: str = Field("", max_length=16)
    reason: str = Field("", max_length=2000)


class CloseIn(SignIn):
    seen_sha256: str = Field(..., max_length=64, description="content_sha256 of what you read")


class DisposeIn(SignIn):
    decision: Literal["release", "reject"]
    reason: str = Field(..., min_length=1, max_length=2000, description="Goes with the signature")


class SponsorDecisionIn(CloseIn):
    decision: Literal["release", "reject"]


class CapaIn(InputSchema):
    title: str = Field(..., min_length=1, max_length=200)
    effectiveness_criteria: str = Field(..., min_length=1, max_length=10000)
    effectiveness_due: dt.date
    reason: str = Field("", max_length=2000)


class ActionIn(InputSchema):
    description: str = Field(..., min_length=1, max_length=300)
    owner: str = Field(..., max_length=150, description="Username of a person of your CDMO")
    due_on: dt.date
    reason: str = Field("", max_length=2000)


class ReasonIn(InputSchema):
    """A change's reason: changes say why (GMP change control)."""

    reason: str = Field(..., min_length=1, max_length=2000, description="Why, for the audit trail")


class EffectivenessIn(InputSchema):
    effective: bool
    result: str = Field(..., max_length=10000)
    reason: str = Field(..., min_length=1, max_length=2000, description="Why, for the audit trail")


# --- building the answers (after the caller was found to read the record) -------------------


def signature_rows(record: models.Model) -> list[dict[str, Any]]:
    """Every signature of a record the caller reads, each compared with its content now;
    the signatures of both parties belong to the record's readers, hence no narrower scope."""
    with scopes_disabled():
        return [
            _signature(shown.signature, shown.current, list(shown.changed))
            for shown in services.signatures_of(record)
        ]


def _signature(signature: Signature, current: bool, changed: list[str]) -> dict[str, Any]:
    return {
        "id": signature.pk,
        "signer_name": signature.signer_name,
        "organisation": signature.organisation.slug,
        "meaning": signature.meaning,
        "signed_at": signature.signed_at,
        "reason": signature.reason,
        "record_type": signature.record_type,
        "record_id": signature.record_id,
        "content_sha256": signature.content_sha256,
        "current": current,
        "changed": changed,
    }


def _digest(record: models.Model) -> str:
    return signing.content_sha256(signing.canonical_content(record))


def _deviation(deviation: Deviation) -> dict[str, Any]:
    with scopes_disabled():
        return {
            "id": deviation.pk,
            "reference": deviation.reference,
            "project": deviation.project_id,
            "title": deviation.title,
            "state": deviation.state,
            "classification": deviation.classification,
            "raised_at": deviation.raised_at,
            "raised_by": deviation.raised_by.username if deviation.raised_by_id else None,
            "batches": [
                {"id": b.pk, "lot": b.lot}
                for b in sorted(deviation.batches.all(), key=lambda b: b.lot)
            ],
            "notice_due_at": deviation.notice_due_at,
            "sponsor_notified_at": deviation.sponsor_notified_at,
            "notice_late": deviation.notice_late,
            "closed_at": deviation.closed_at,
        }


def _deviation_detail(deviation: Deviation) -> dict[str, Any]:
    deviation.refresh_from_db()
    with scopes_disabled():
        capa_rows = [
            {"id": c.pk, "reference": f"CAPA-{c.pk:04d}", "title": c.title, "state": c.state}
            for c in deviation.capas.order_by("created_at", "pk")
        ]
    source = (
        {"type": deviation.source_type, "id": deviation.source_id}
        if deviation.source_type
        else None
    )
    return {
        **_deviation(deviation),
        "description": deviation.description,
        "evidence": deviation.evidence,
        "source": source,
        "classification_rationale": deviation.classification_rationale,
        "classified_at": deviation.classified_at,
        "root_cause": deviation.root_cause,
        "investigation": deviation.investigation,
        "capas": capa_rows,
        "content_sha256": _digest(deviation),
        "signatures": signature_rows(deviation),
    }


def _capa(capa: Capa, today: dt.date) -> dict[str, Any]:
    with scopes_disabled():
        deviation = capa.deviation
        late = sum(1 for a in capa.actions.all() if a.overdue(today))
    return {
        "id": capa.pk,
        "reference": f"CAPA-{capa.pk:04d}",
        "deviation": deviation.pk,
        "deviation_reference": deviation.reference,
        "project": deviation.project_id,
        "title": capa.title,
        "state": capa.state,
        "effectiveness_due": capa.effectiveness_due,
        "effectiveness_overdue": capa.state in (Capa.State.OPEN, Capa.State.CHECK)
        and capa.effectiveness_due < today,
        "overdue_actions": late,
        "created_at": capa.created_at,
    }


def _capa_detail(capa: Capa) -> dict[str, Any]:
    capa.refresh_from_db()
    today = timezone.localdate()
    with scopes_disabled():
        actions = [
            {
                "id": a.pk,
                "description": a.description,
                "owner": a.owner.username,
                "owner_name": a.owner.get_full_name() or a.owner.username,
                "due_on": a.due_on,
                "done_at": a.done_at,
                "overdue": a.overdue(today),
            }
            for a in capa.actions.select_related("owner")
        ]
    return {
        **_capa(capa, today),
        "effectiveness_criteria": capa.effectiveness_criteria,
        "effectiveness_result": capa.effectiveness_result,
        "actions": actions,
    }


def _disposition(found: Disposition) -> dict[str, Any]:
    found.refresh_from_db()
    return {
        "id": found.pk,
        "batch": found.batch_id,
        "decision": found.decision,
        "state": found.state,
        "decided_at": found.decided_at,
        "sponsor_decision": found.sponsor_decision,
        "sponsor_decided_at": found.sponsor_decided_at,
        "content_sha256": _digest(found),
        "signatures": signature_rows(found),
    }


def _review(batch: Batch) -> dict[str, Any]:
    review = disposition.review_of(batch)
    return {
        "batch": batch.pk,
        "lot": batch.lot,
        "batch_state": batch.state,
        "results": review.results,
        "deviations": [
            {
                "id": d.pk,
                "reference": d.reference,
                "title": d.title,
                "state": d.state,
                "classification": d.classification,
            }
            for d in review.deviations
        ],
        "verdict": review.verdict,
        "blockers": review.blockers,
        "sponsor_release_required": review.sponsor_release_required,
        "disposition": _disposition(review.disposition) if review.disposition else None,
    }


def file_answers(*statuses: int) -> dict[int, Any]:
    """``response=`` of an operation answering a file: the error bodies only, since its 200
    is not JSON (``file_answer`` documents it)."""
    return {status: body for status, body in answers(None, *statuses).items() if status != 200}


def file_answer(content_type: str, description: str) -> dict[str, Any]:
    """``openapi_extra=`` declaring the 200 answer of a file of ``content_type``."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {"responses": {200: {"description": description, "content": {content_type: binary}}}}


# --- who may write ---------------------------------------------------------------------------


def _need(request: HttpRequest, permission: str) -> None:
    if not request.user.can(permission):
        raise PermissionDenied("Your role does not allow this.")


def _qa_deviation(request: HttpRequest, deviation_id: int) -> Deviation:
    """The CDMO QA's own deviation: 403 for other roles, 404 for anyone else's."""
    _need(request, EDIT_QUALITY)
    found: Deviation = get_changeable_or_404(Deviation, request.user, pk=deviation_id)
    return found


def _qa_capa(request: HttpRequest, capa_id: int) -> Capa:
    _need(request, EDIT_QUALITY)
    found: Capa = get_changeable_or_404(Capa, request.user, pk=capa_id)
    return found


# --- deviations ------------------------------------------------------------------------------


@router.get(
    "/deviations",
    response=answers(list[DeviationOut], 400, 401, 403, 422),
    summary="Deviations of your projects, newest first",
)
def list_deviations(request: HttpRequest, filters: Query[DeviationFilter]) -> list[dict[str, Any]]:
    found = Deviation.objects.select_related("raised_by").prefetch_related("batches")
    if filters.project is not None:
        found = found.filter(project_id=filters.project)
    if filters.state:
        found = found.filter(state=filters.state)
    if filters.classification:
        found = found.filter(classification=filters.classification)
    if filters.batch is not None:
        found = found.filter(batches__id=filters.batch)
    return [_deviation(d) for d in found.distinct()[:LIST_LIMIT]]


@router.post(
    "/deviations",
    response=answers(DeviationDetailOut, 400, 401, 403, 404, 422, success=201),
    summary="Raise a deviation of one of your projects (CDMO staff)",
)
def raise_deviation(request: HttpRequest, payload: RaiseIn) -> Status:
    """From batches, a monitoring alarm or by hand; the CDMO's QA is told."""
    _need(request, EDIT_BATCHES)
    project = get_visible_or_404(Project, request.user, pk=payload.project)
    batches = list(Batch.objects.filter(pk__in=payload.batches))
    missing = sorted(set(payload.batches) - {b.pk for b in batches})
    if missing:
        raise ValidationError({"batches": f"No batch {', '.join(map(str, missing))} of yours."})
    source_type, source_id = "", ""
    if payload.alarm is not None:
        alarm = Alarm.objects.filter(pk=payload.alarm).select_related("batch").first()
        if alarm is None:
            raise ValidationError({"alarm": f"No alarm {payload.alarm} of yours."})
        source_type, source_id = signing.record_type(Alarm), str(alarm.pk)
        if alarm.batch not in batches:
            batches.append(alarm.batch)
    deviation = deviations.raise_deviation(
        request.user,
        project,
        title=payload.title,
        description=payload.description,
        evidence=payload.evidence,
        batches=batches,
        source_type=source_type,
        source_id=source_id,
        reason=payload.reason,
    )
    return Status(201, _deviation_detail(deviation))


@router.get(
    "/deviations/{deviation_id}",
    response=answers(DeviationDetailOut, 400, 401, 403, 404, 422),
    summary="A deviation: batches, evidence, class, notice, investigation, CAPAs, signatures",
)
def get_deviation(request: HttpRequest, deviation_id: int) -> dict[str, Any]:
    return _deviation_detail(get_visible_or_404(Deviation, request.user, pk=deviation_id))


@router.post(
    "/deviations/{deviation_id}/classify",
    response=answers(DeviationDetailOut, 400, 401, 403, 404, 422),
    summary="Classify an open deviation; the sponsor's QA is told now (CDMO QA)",
)
def classify_deviation(
    request: HttpRequest, deviation_id: int, payload: ClassifyIn
) -> dict[str, Any]:
    deviation = _qa_deviation(request, deviation_id)
    deviations.classify(
        request.user, deviation, payload.classification, payload.rationale, payload.reason
    )
    return _deviation_detail(deviation)


@router.post(
    "/deviations/{deviation_id}/investigate",
    response=answers(DeviationDetailOut, 400, 401, 403, 404, 422),
    summary="Start the investigation of a classified deviation, or record its findings",
)
def investigate_deviation(
    request: HttpRequest, deviation_id: int, payload: InvestigateIn
) -> dict[str, Any]:
    """Classified: the investigation starts. Under investigation: root cause and findings."""
    deviation = _qa_deviation(request, deviation_id)
    if deviation.state == Deviation.State.CLASSIFIED:
        deviations.start_investigation(request.user, deviation, payload.reason)
    else:
        deviations.record_investigation(
            request.user,
            deviation,
            payload.root_cause or "",
            payload.investigation,
            payload.reason,
        )
    return _deviation_detail(deviation)


@router.post(
    "/deviations/{deviation_id}/close",
    response=answers(DeviationDetailOut, 400, 401, 403, 404, 422),
    summary="Close an investigated deviation by the CDMO QA's e-signature (approved)",
)
def close_deviation(request: HttpRequest, deviation_id: int, payload: CloseIn) -> dict[str, Any]:
    deviation = _qa_deviation(request, deviation_id)
    deviations.close(
        request.user,
        deviation,
        password=payload.password,
        totp_code=payload.totp_code,
        reason=payload.reason,
        seen_sha256=payload.seen_sha256,
    )
    return _deviation_detail(deviation)


# --- CAPA ------------------------------------------------------------------------------------


@router.get(
    "/capas",
    response=answers(list[CapaOut], 400, 401, 403, 422),
    summary="CAPAs of your projects, newest first",
)
def list_capas(request: HttpRequest, filters: Query[CapaFilter]) -> list[dict[str, Any]]:
    found = Capa.objects.select_related("deviation").prefetch_related("actions")
    if filters.project is not None:
        found = found.filter(deviation__project_id=filters.project)
    if filters.deviation is not None:
        found = found.filter(deviation_id=filters.deviation)
    if filters.state:
        found = found.filter(state=filters.state)
    today = timezone.localdate()
    return [_capa(c, today) for c in found[:LIST_LIMIT]]


@router.post(
    "/deviations/{deviation_id}/capas",
    response=answers(CapaDetailOut, 400, 401, 403, 404, 422, success=201),
    summary="Open a CAPA against a classified deviation (CDMO QA)",
)
def open_capa(request: HttpRequest, deviation_id: int, payload: CapaIn) -> Status:
    deviation = _qa_deviation(request, deviation_id)
    capa = capas.open_capa(
        request.user,
        deviation,
        title=payload.title,
        effectiveness_criteria=payload.effectiveness_criteria,
        effectiveness_due=payload.effectiveness_due,
        reason=payload.reason,
    )
    return Status(201, _capa_detail(capa))


@router.get(
    "/capas/{capa_id}",
    response=answers(CapaDetailOut, 400, 401, 403, 404, 422),
    summary="A CAPA: its actions with owners, due dates and overdue flags",
)
def get_capa(request: HttpRequest, capa_id: int) -> dict[str, Any]:
    return _capa_detail(get_visible_or_404(Capa, request.user, pk=capa_id))


@router.post(
    "/capas/{capa_id}/actions",
    response=answers(CapaDetailOut, 400, 401, 403, 404, 422, success=201),
    summary="Add an action with its owner and due date to an open CAPA (CDMO QA)",
)
def add_action(request: HttpRequest, capa_id: int, payload: ActionIn) -> Status:
    capa = _qa_capa(request, capa_id)
    with scopes_disabled():
        owner = User.objects.filter(
            username=payload.owner,
            organisation_id__in=caller_organisation_ids(request.user),
            is_active=True,
        ).first()
    if owner is None:
        raise ValidationError({"owner": f"No active person '{payload.owner}' of your CDMO."})
    capas.add_action(
        request.user,
        capa,
        description=payload.description,
        owner=owner,
        due_on=payload.due_on,
        reason=payload.reason,
    )
    return Status(201, _capa_detail(capa))


@router.post(
    "/capa-actions/{action_id}/done",
    response=answers(CapaDetailOut, 400, 401, 403, 404, 422),
    summary="Mark a CAPA action done; the last one starts the effectiveness check",
)
def complete_action(request: HttpRequest, action_id: int, payload: ReasonIn) -> dict[str, Any]:
    action: CapaAction = get_changeable_or_404(CapaAction, request.user, pk=action_id)
    capas.complete_action(request.user, action, payload.reason)
    with scopes_disabled():
        capa = action.capa
    return _capa_detail(capa)


@router.post(
    "/capas/{capa_id}/effectiveness",
    response=answers(CapaDetailOut, 400, 401, 403, 404, 422),
    summary="Record the effectiveness check and close the CAPA (CDMO QA)",
)
def check_effectiveness(
    request: HttpRequest, capa_id: int, payload: EffectivenessIn
) -> dict[str, Any]:
    capa = _qa_capa(request, capa_id)
    capas.check_effectiveness(
        request.user,
        capa,
        effective=payload.effective,
        result=payload.result,
        reason=payload.reason,
    )
    return _capa_detail(capa)


# --- batch review and disposition ------------------------------------------------------------


@router.get(
    "/batches/{batch_id}/review",
    response=answers(ReviewOut, 400, 401, 403, 404, 422),
    summary="A batch's review: results vs specs, deviations, verdict, blockers, disposition",
)
def get_review(request: HttpRequest, batch_id: int) -> dict[str, Any]:
    return _review(get_visible_or_404(Batch, request.user, pk=batch_id))


@router.post(
    "/batches/{batch_id}/disposition",
    response=answers(DispositionOut, 400, 401, 403, 404, 422, success=201),
    summary="Release or reject a batch by the CDMO QA's e-signature",
)
def dispose_batch(request: HttpRequest, batch_id: int, payload: DisposeIn) -> Status:
    _need(request, EDIT_QUALITY)
    batch = get_changeable_or_404(Batch, request.user, pk=batch_id)
    found = disposition.dispose(
        request.user,
        batch,
        decision=payload.decision,
        password=payload.password,
        totp_code=payload.totp_code,
        reason=payload.reason,
    )
    return Status(201, _disposition(found))


@router.post(
    "/dispositions/{disposition_id}/sponsor-decision",
    response=answers(DispositionOut, 400, 401, 403, 404, 422),
    summary="The sponsor QA's release or rejection after the CDMO's, by e-signature",
)
def sponsor_decision(
    request: HttpRequest, disposition_id: int, payload: SponsorDecisionIn
) -> dict[str, Any]:
    _need(request, SIGN_RECORDS)
    found: Disposition = get_visible_or_404(Disposition, request.user, pk=disposition_id)
    disposition.sponsor_decide(
        request.user,
        found,
        decision=payload.decision,
        password=payload.password,
        totp_code=payload.totp_code,
        reason=payload.reason,
        seen_sha256=payload.seen_sha256,
    )
    return _disposition(found)


@router.get(
    "/batches/{batch_id}/coa.pdf",
    response=file_answers(400, 401, 403, 404, 422),
    summary="The batch's Certificate of Analysis with every signature (PDF)",
    openapi_extra=file_answer("application/pdf", "The PDF"),
)
def get_coa(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = get_visible_or_404(Batch, request.user, pk=batch_id)
    response = HttpResponse(pdf.certificate_of_analysis(batch), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="CoA-{batch.lot}.pdf"'
    return response


# --- signatures ------------------------------------------------------------------------------


@router.get(
    "/signatures",
    response=answers(list[SignatureOut], 400, 401, 403, 404, 422),
    summary="Signatures of records you read, oldest first; one record's with both filters",
)
def list_signatures(request: HttpRequest, filters: Query[SignatureFilter]) -> Any:
    """A record named by type and id must be one the caller reads (404 otherwise); then its
    signatures are compared with its content now, as its page shows them."""
    kind, record_id = filters.record_type or "", filters.record_id or ""
    if kind:
        try:
            signing.signable_of(kind)
        except LookupError:
            raise ValidationError({"record_type": f"{kind} is not a signable record."}) from None
    if record_id:
        if not kind:
            raise ValidationError({"record_type": "Name the record's type with its id."})
        with scopes_disabled():
            record = signing.resolve(kind, record_id) if record_id.isdigit() else None
        readable = record is not None and tenancy_of(record).is_readable_by(
            record, caller_organisation_ids(request.user)
        )
        if not readable:
            raise Http404("No such record.")
        return signature_rows(record)
    found = Signature.objects.select_related("organisation").order_by("-signed_at", "-pk")
    if kind:
        found = found.filter(record_type=kind)
    rows = list(found[:LIST_LIMIT])
    rows.reverse()
    return [_signature_now(s) for s in rows]


def _signature_now(signature: Signature) -> dict[str, Any]:
    """A signature compared with its record's content now; a record gone counts as changed."""
    with scopes_disabled():
        record = signing.resolve(signature.record_type, signature.record_id)
    if record is None:
        return _signature(signature, False, [])
    now = signing.canonical_content(record)
    current = signing.content_sha256(now) == signature.content_sha256
    changed = [] if current else signing.changed_fields(signature.content, now)
    return _signature(signature, current, changed)
