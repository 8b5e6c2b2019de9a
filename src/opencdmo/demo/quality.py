"""The demo's quality records: a quality agreement, deviations in every state (one raised
from the running batch's monitoring alarm, with its evidence), a CAPA with an overdue action,
two dispositions (one released by both parties, one rejected) and a batch awaiting QA's
review, so QA has work on first login."""

from __future__ import annotations

import datetime as dt

from django.db.models import Model
from django.utils import timezone

from opencdmo.accounts.models import User
from opencdmo.analytics.models import Alarm
from opencdmo.demo.world import DEMO_PASSWORD
from opencdmo.manufacturing import services as manufacturing
from opencdmo.manufacturing.models import Batch
from opencdmo.projects.models import Project
from opencdmo.quality import capa, deviations, disposition, services, signing
from opencdmo.quality.records import Deviation


def _person(organisation_id: int, role: str) -> User | None:
    return User.objects.filter(organisation_id=organisation_id, role=role).order_by("pk").first()


def _digest(record: Model) -> str:
    return signing.content_sha256(signing.canonical_content(record))


def seed_quality(reason: str) -> int:
    """Write the demo's quality records; the number of deviations (none without batches)."""
    project = Project.objects.filter(sponsor__is_demo=True).order_by("pk").first()
    if project is None:
        return 0
    qa = _person(project.cdmo_id, "cdmo_qa")
    operator = _person(project.cdmo_id, "cdmo_operator") or _person(project.cdmo_id, "cdmo_msat")
    sponsor_qa = _person(project.sponsor_id, "sponsor_qa")
    reviewed = Batch.objects.filter(project=project, state="under_review").order_by("lot").first()
    complete = Batch.objects.filter(project=project, state="complete").order_by("lot").first()
    if qa is None or operator is None or sponsor_qa is None or reviewed is None:
        return 0
    if services.agreement_of(project) is None:
        services.create_agreement(
            qa,
            project,
            {"minor_notice_h": 720, "major_notice_h": 72, "critical_notice_h": 24},
            reason,
        )
    now = timezone.now()

    def raised(title: str, description: str, hours_ago: int, batches: list[Batch]) -> Deviation:
        return deviations.raise_deviation(
            operator,
            project,
            title=title,
            description=description,
            batches=batches,
            reason=reason,
            raised_at=now - dt.timedelta(hours=hours_ago),
        )

    deviations_written = [
        raised("Label roll mix-up at dispensing", "Caught at line clearance.", 3, [])
    ]
    late = raised("Incubator CO2 alarm over the weekend", "CO2 at 7.5 % for 9 h.", 40, [])
    deviations.classify(qa, late, "critical", "Seed train viability at risk", reason)
    investigating = raised("Delayed in-process sample", "Day 7 sample taken 5 h late.", 100, [])
    deviations.classify(qa, investigating, "minor", "Within the validated window", reason)
    deviations.start_investigation(qa, investigating, reason)
    oos = raised(
        f"Out-of-specification result of {reviewed.lot}",
        "A release result outside its specification.",
        30,
        [reviewed],
    )
    deviations.classify(qa, oos, "major", "Product quality attribute out of specification", reason)
    deviations.start_investigation(qa, oos, reason)
    deviations.record_investigation(
        qa, oos, "equipment", "Feed pump calibration drifted; recalibrated and verified.", reason
    )
    deviations.close(
        qa, oos, password=DEMO_PASSWORD, totp_code="", reason=reason, seen_sha256=_digest(oos)
    )
    deviations_written += [late, investigating, oos]
    action_plan = capa.open_capa(
        qa,
        oos,
        title="Feed pump calibration interval",
        effectiveness_criteria="No drift beyond 2 % at the next six calibrations",
        effectiveness_due=now.date() + dt.timedelta(days=90),
        reason=reason,
    )
    capa.add_action(
        qa,
        action_plan,
        description="Shorten the calibration interval to 3 months",
        owner=operator,
        due_on=now.date() - dt.timedelta(days=4),
        reason=reason,
    )
    done = capa.add_action(
        qa,
        action_plan,
        description="Recalibrate every feed pump of the suite",
        owner=qa,
        due_on=now.date() + dt.timedelta(days=14),
        reason=reason,
    )
    capa.complete_action(qa, done, reason)
    disposition.dispose(
        qa,
        reviewed,
        decision="reject",
        password=DEMO_PASSWORD,
        totp_code="",
        reason="Titer out of specification; batch rejected",
    )
    if complete is not None:
        manufacturing.change_state(complete, to="under_review", actor=qa, reason=reason)
        released = disposition.dispose(
            qa,
            complete,
            decision="release",
            password=DEMO_PASSWORD,
            totp_code="",
            reason="Batch record and results reviewed",
        )
        disposition.sponsor_decide(
            sponsor_qa,
            released,
            decision="release",
            password=DEMO_PASSWORD,
            totp_code="",
            reason="Released for clinical supply",
            seen_sha256=_digest(released),
        )
    alarm = (
        Alarm.objects.filter(batch__project=project, batch__state="running")
        .order_by("batch__lot", "time_h", "statistic")
        .first()
    )
    if alarm is not None:
        draft = deviations.alarm_draft(alarm)
        from_alarm = deviations.raise_from_alarm(
            operator,
            alarm,
            title=draft.title,
            description=draft.description,
            evidence=draft.evidence,
            reason=reason,
        )
        deviations.classify(
            qa, from_alarm, "major", "Running batch outside its reference envelope", reason
        )
        deviations_written.append(from_alarm)
    awaiting = Batch.objects.filter(project=project, state="complete").order_by("-lot").first()
    if awaiting is not None:
        manufacturing.change_state(awaiting, to="under_review", actor=qa, reason=reason)
    return len(deviations_written)
