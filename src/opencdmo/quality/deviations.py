"""Deviations: raised by CDMO staff, classified by its QA (the sponsor told at once, within
the quality agreement's hours from raising), investigated, and closed by QA's e-signature.

Every write is an audited change with a reason (``opencdmo.core.services``); a deviation may
come from a batch, a monitoring alarm (``source_type``/``source_id`` with its evidence) or by
hand. Quality reads the monitoring app's alarms to draft such a deviation; the monitoring
pages link here, never the reverse.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from opencdmo.accounts.models import User
from opencdmo.accounts.roles import EDIT_QUALITY, SIGN_RECORDS
from opencdmo.analytics.models import Alarm
from opencdmo.core import services as core
from opencdmo.core.services import Writable
from opencdmo.manufacturing.models import Batch
from opencdmo.notifications import services as notifications
from opencdmo.quality import services as quality
from opencdmo.quality import signing
from opencdmo.quality.models import DeviationClass
from opencdmo.quality.records import Deviation, RootCause
from opencdmo.quality.unscoped import unscoped

__all__ = [
    "ALARM_SOURCE",
    "DEVIATION",
    "DeviationDraft",
    "alarm_draft",
    "alarm_of",
    "classify",
    "close",
    "raise_deviation",
    "raise_from_alarm",
    "raised_from_alarms",
    "record_investigation",
    "start_investigation",
]

ALARM_SOURCE = signing.record_type(Alarm)
"""``source_type`` of a deviation raised from a monitoring alarm (``source_id``: the alarm's)."""

TRANSITIONS = {
    "open": ("classified",),
    "classified": ("under_investigation",),
    "under_investigation": ("closed",),
}

DEVIATION = Writable(
    Deviation,
    fields=(
        "title",
        "description",
        "evidence",
        "source_type",
        "source_id",
        "raised_by",
        "raised_at",
        "state",
        "classification",
        "classification_rationale",
        "classified_at",
        "sponsor_notified_at",
        "notice_due_at",
        "root_cause",
        "investigation",
        "closed_at",
    ),
    noun="deviation",
    state_field="state",
    transitions=TRANSITIONS,
)

SIGNED_FIELDS = (
    "project",
    "title",
    "description",
    "evidence",
    "classification",
    "classification_rationale",
    "root_cause",
    "investigation",
)
signing.register_signable(Deviation, fields=SIGNED_FIELDS, meanings=("approved",))


def _link(deviation: Deviation) -> str:
    return reverse("quality:deviation", args=[deviation.pk])


def _require_qa(actor: User | None) -> None:
    if actor is not None and not actor.can(EDIT_QUALITY):
        raise PermissionDenied("Only the CDMO's QA classifies, investigates and closes deviations.")


def _check_state(deviation: Deviation, *expected: str) -> None:
    if deviation.state not in expected:
        wanted = " or ".join(expected)
        raise ValidationError(
            {"state": f"{deviation.reference} is {deviation.state}; this needs it {wanted}."}
        )


def _batches_of(project: Any, batches: Iterable[Batch]) -> list[Batch]:
    chosen = list(batches)
    foreign = [b.lot for b in chosen if b.project_id != project.pk]
    if foreign:
        raise ValidationError({"batches": f"Not batches of {project}: {', '.join(foreign)}."})
    return chosen


def _link_batches(deviation: Deviation, batches: list[Batch]) -> None:
    with scopes_disabled():
        deviation.batches.set(batches)


@unscoped
def raise_deviation(
    actor: User | None,
    project: Any,
    *,
    title: str,
    description: str,
    batches: Iterable[Batch] = (),
    evidence: str = "",
    source_type: str = "",
    source_id: str = "",
    reason: str = "",
    raised_at: dt.datetime | None = None,
) -> Deviation:
    """Open a deviation of ``project`` (linked to ``batches``); the CDMO's QA is told."""
    affected = _batches_of(project, batches)
    deviation = core.create(
        DEVIATION,
        actor=actor,
        reason=reason,
        default_reason="Deviation raised",
        parent={"project": project},
        fields={
            "title": title,
            "description": description,
            "evidence": evidence,
            "source_type": source_type,
            "source_id": source_id,
            "raised_by": actor,
            "raised_at": raised_at or timezone.now(),
        },
        after_save=lambda d: _link_batches(d, affected),
    )
    notifications.notify(
        notifications.people_with(project.cdmo_id, EDIT_QUALITY),
        "deviation.raised",
        f"{deviation.reference} raised: {title}",
        _link(deviation),
        description[:500],
    )
    return deviation


@dataclass(frozen=True)
class DeviationDraft:
    """What the deviation form starts with; the person raising it edits any of it."""

    title: str
    description: str
    evidence: str


def alarm_draft(alarm: Alarm) -> DeviationDraft:
    """Title and evidence from an alarm: the statistic, when, its value against the limit and
    the variables that contributed most, so the investigation starts from what was seen."""
    with scopes_disabled():
        batch = alarm.batch
        run_length = alarm.model.run_length
    statistic = alarm.get_statistic_display()
    hour = f"{alarm.time_h:.1f} h"
    at = f" ({alarm.at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC)" if alarm.at else ""
    top = "; ".join(f"{name} {value:.3g}" for name, value in alarm.contributions[:5])
    evidence = (
        f"{statistic} alarm of batch {batch.lot} by {alarm.model_label}, from {hour}{at}: "
        f"{alarm.value:.4g} against its limit {alarm.limit:.4g}, {run_length} samples in a row "
        f"above it. Largest contributions: {top or 'none recorded'}."
    )
    return DeviationDraft(
        title=f"{statistic} alarm on {batch.lot} at {hour}",
        description=(
            f"Batch monitoring: the {statistic} of batch {batch.lot} stayed above its limit "
            f"from {hour}; the process left the range of the reference batches."
        ),
        evidence=evidence,
    )


def raise_from_alarm(
    actor: User | None,
    alarm: Alarm,
    *,
    title: str,
    description: str,
    evidence: str,
    reason: str = "",
) -> Deviation:
    """A deviation of the alarm's batch with the alarm as its source."""
    with scopes_disabled():
        batch = alarm.batch
        project = batch.project
    return raise_deviation(
        actor,
        project,
        title=title,
        description=description,
        evidence=evidence,
        batches=[batch],
        source_type=ALARM_SOURCE,
        source_id=str(alarm.pk),
        reason=reason or f"Raised from the {alarm.get_statistic_display()} alarm",
    )


def raised_from_alarms(alarm_ids: Iterable[int]) -> dict[int, list[Deviation]]:
    """The deviations the caller reads that were raised from each alarm, oldest first, so an
    alarm is not raised twice unknowingly."""
    keys = [str(pk) for pk in alarm_ids]
    found: dict[int, list[Deviation]] = {}
    rows = Deviation.objects.filter(source_type=ALARM_SOURCE, source_id__in=keys)
    for deviation in rows.order_by("raised_at", "pk"):
        found.setdefault(int(deviation.source_id), []).append(deviation)
    return found


def alarm_of(deviation: Deviation) -> Alarm | None:
    """The alarm a deviation was raised from; the deviation's reader reads it too (the alarm
    belongs to a batch of the same project)."""
    if deviation.source_type != ALARM_SOURCE or not deviation.source_id.isdigit():
        return None
    with scopes_disabled():
        return (
            Alarm.objects.filter(
                pk=int(deviation.source_id), batch__project_id=deviation.project_id
            )
            .select_related("batch")
            .first()
        )


@unscoped
def notice_due(deviation: Deviation, classification: str) -> dt.datetime | None:
    """Raised at plus the agreement's hours for ``classification``; ``None`` without one."""
    agreement = quality.agreement_of(deviation.project)
    if agreement is None:
        return None
    return deviation.raised_at + dt.timedelta(hours=agreement.notice_hours(classification))


@unscoped
def classify(
    actor: User | None, deviation: Deviation, classification: str, rationale: str, reason: str
) -> Deviation:
    """Classify with a rationale and tell the sponsor's QA now; the notice is late if now is
    past the agreement's hours for the class, counted from raising."""
    _require_qa(actor)
    _check_state(deviation, "open")
    if classification not in DeviationClass.values:
        raise ValidationError(
            {"classification": f"Choose one of: {', '.join(DeviationClass.values)}."}
        )
    if not rationale.strip():
        raise ValidationError({"classification_rationale": "Say why this class."})
    now = timezone.now()
    with transaction.atomic():
        core.update(
            DEVIATION,
            deviation,
            actor=actor,
            reason=reason,
            changes={
                "state": "classified",
                "classification": classification,
                "classification_rationale": rationale.strip(),
                "classified_at": now,
                "sponsor_notified_at": now,
                "notice_due_at": notice_due(deviation, classification),
            },
            verb="classified",
        )
        project = deviation.project
        notifications.notify(
            notifications.people_with(project.sponsor_id, SIGN_RECORDS),
            "deviation.classified",
            f"{deviation.get_classification_display()} deviation {deviation.reference} "
            f"at {project.cdmo}: {deviation.title}",
            _link(deviation),
            rationale.strip()[:500],
        )
    return deviation


@unscoped
def start_investigation(actor: User | None, deviation: Deviation, reason: str) -> Deviation:
    _require_qa(actor)
    return core.transition(
        DEVIATION, deviation, actor=actor, reason=reason, to="under_investigation"
    )


@unscoped
def record_investigation(
    actor: User | None, deviation: Deviation, root_cause: str, investigation: str, reason: str
) -> Deviation:
    """The root-cause category and what the investigation found."""
    _require_qa(actor)
    _check_state(deviation, "under_investigation")
    if root_cause not in RootCause.values:
        raise ValidationError({"root_cause": f"Choose one of: {', '.join(RootCause.values)}."})
    return core.update(
        DEVIATION,
        deviation,
        actor=actor,
        reason=reason,
        changes={"root_cause": root_cause, "investigation": investigation.strip()},
    )


@unscoped
def close(
    actor: User,
    deviation: Deviation,
    *,
    password: str,
    totp_code: str,
    reason: str,
    seen_sha256: str,
) -> Deviation:
    """Close by the CDMO QA's signature, meaning "approved", of the investigated deviation;
    a refused signature (a wrong password) leaves it as it was."""
    _require_qa(actor)
    DEVIATION.authorise(actor, deviation)
    _check_state(deviation, "under_investigation")
    if not deviation.root_cause or not deviation.investigation:
        raise ValidationError(
            {"investigation": "Record the root cause and the investigation before closing."}
        )
    # Signed outside any enclosing transaction: a refused attempt's audit entry must stay.
    quality.sign(actor, deviation, "approved", password, totp_code, reason, seen_sha256)
    core.update(
        DEVIATION,
        deviation,
        actor=actor,
        reason=reason or "Closed by QA approval",
        changes={"state": "closed", "closed_at": timezone.now()},
        verb="closed",
    )
    project = deviation.project
    notifications.notify(
        notifications.people_with(project.sponsor_id, SIGN_RECORDS),
        "deviation.closed",
        f"{deviation.reference} closed: {deviation.title}",
        _link(deviation),
    )
    return deviation


def overdue_notices(user: User) -> list[notifications.Overdue]:
    """For the CDMO's QA: deviations whose sponsor notice is due and not sent (the strictest
    class's hours while unclassified)."""
    if not user.can(EDIT_QUALITY) or not user.organisation_id:
        return []
    now = timezone.now()
    found = []
    with scopes_disabled():
        open_ones = Deviation.objects.filter(
            project__cdmo_id=user.organisation_id, state="open"
        ).select_related("project")
        for deviation in open_ones:
            due = notice_due(deviation, "critical")
            if due is not None and due < now:
                found.append(
                    notifications.Overdue(
                        f"{deviation.reference}: tell the sponsor (classify)", due, _link(deviation)
                    )
                )
    return found


notifications.register_overdue(overdue_notices)
