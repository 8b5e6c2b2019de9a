"""From a monitoring alarm to a deviation and from a verdict to the batch review: the alarm's
evidence in the deviation, links both ways, the verdict on the review page and its PDF, and
an alarm verdict blocking the disposition until a closed deviation covers the batch."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django_scopes import scopes_disabled
from pypdf import PdfReader

from opencdmo.accounts.tenancy import caller_scope
from opencdmo.analytics import services
from opencdmo.analytics.models import Alarm, MonitoringModel
from opencdmo.manufacturing import services as manufacturing
from opencdmo.notifications.models import Notification
from opencdmo.quality import deviations, disposition, signing
from opencdmo.quality.records import Deviation
from tests.analytics.conftest import Plant, approve
from tests.conftest import PASSWORD


@pytest.fixture
def judged(plant: Plant, fitted: MonitoringModel) -> Plant:
    """The model approved, the running batch's alarms recorded, the faulty batch judged."""
    approve(plant, fitted)
    fitted.refresh_from_db()
    services.record_alarms(plant.running, fitted)
    services.judge_batch(plant.faulty)
    return plant


def _alarm(batch: Any) -> Alarm:
    with scopes_disabled():
        alarm: Alarm = Alarm.objects.filter(batch=batch).order_by("time_h", "pk").first()
    assert alarm is not None
    return alarm


def _raise_url(alarm: Alarm) -> str:
    return reverse("quality:deviation-from-alarm", args=[alarm.pk])


def test_cdmo_staff_see_the_raise_action_on_alarms_and_sponsors_do_not(
    judged: Plant, client_for: Any
) -> None:
    """The live page and the monitoring list offer "Raise deviation" on each alarm to the
    batch's CDMO staff; the sponsor reads the alarm without the action."""
    alarm = _alarm(judged.running)
    pages = (reverse("analytics:batch", args=[judged.running.pk]), reverse("analytics:monitoring"))
    for url in pages:
        page = client_for(judged.user("cdmo_msat")).get(url).content.decode()
        assert 'data-testid="raise-deviation"' in page
        assert _raise_url(alarm) in page
        sponsor = client_for(judged.user("sponsor_qa", "sponsor-one")).get(url).content.decode()
        assert 'data-testid="alarm"' in sponsor or 'data-testid="alarms"' in sponsor
        assert 'data-testid="raise-deviation"' not in sponsor
        assert "/quality/alarms/" not in sponsor


def test_raising_from_an_alarm_keeps_its_evidence_and_links_both_ways(
    judged: Plant, client_for: Any
) -> None:
    """The form is filled from the alarm (statistic, hour, value against limit, top
    contributions); the deviation keeps the alarm as its source and links back to the batch's
    monitoring page; the alarm then shows the deviation, and the form warns of it."""
    alarm = _alarm(judged.running)
    msat = client_for(judged.user("cdmo_msat"))
    form = msat.get(_raise_url(alarm)).content.decode()
    title = f"SPE alarm on A-901 at {alarm.time_h:.1f} h"
    assert title in form
    assert f"{alarm.value:.4g} against its limit {alarm.limit:.4g}" in form
    assert alarm.contributions[0][0] in form
    assert 'data-testid="earlier-deviations"' not in form
    draft = deviations.alarm_draft(alarm)
    answer = msat.post(
        _raise_url(alarm),
        {
            "title": draft.title,
            "description": draft.description,
            "evidence": draft.evidence,
            "reason": "Alarm on the running batch",
        },
    )
    assert answer.status_code == 302
    with scopes_disabled():
        deviation = Deviation.objects.get()
        assert list(deviation.batches.all()) == [judged.running]
        notified = Notification.objects.filter(
            user=judged.user("cdmo_qa"), event="deviation.raised"
        ).exists()
    assert answer["Location"] == reverse("quality:deviation", args=[deviation.pk])
    assert (deviation.source_type, deviation.source_id) == ("analytics.alarm", str(alarm.pk))
    assert deviation.title == title
    assert "samples in a row" in deviation.evidence
    assert notified
    monitoring_url = reverse("analytics:batch", args=[judged.running.pk])
    detail = msat.get(answer["Location"]).content.decode()
    assert f'href="{monitoring_url}"' in detail
    for user in (judged.user("cdmo_msat"), judged.user("sponsor_qa", "sponsor-one")):
        page = client_for(user).get(monitoring_url).content.decode()
        assert 'data-testid="alarm-deviation"' in page
        assert deviation.reference in page
    again = msat.get(_raise_url(alarm)).content.decode()
    assert 'data-testid="earlier-deviations"' in again
    assert deviation.reference in again


def test_nobody_but_the_batch_cdmo_reaches_the_raise_route(judged: Plant, client_for: Any) -> None:
    """The project's sponsor, another sponsor and another CDMO find nothing there (404),
    whether they look or post; nothing is raised."""
    alarm = _alarm(judged.running)
    body = {"title": "Not mine", "description": "x", "reason": "x"}
    for org, role in (
        ("sponsor-one", "sponsor_qa"),
        ("sponsor-two", "sponsor_qa"),
        ("beta-pharma", "cdmo_msat"),
        ("beta-pharma", "cdmo_qa"),
    ):
        client = client_for(judged.user(role, org))
        assert client.get(_raise_url(alarm)).status_code == 404, (org, role)
        assert client.post(_raise_url(alarm), body).status_code == 404, (org, role)
    with scopes_disabled():
        assert not Deviation.objects.exists()
    sponsor = judged.user("sponsor_qa", "sponsor-one")
    with caller_scope(sponsor), pytest.raises(PermissionDenied):
        deviations.raise_from_alarm(sponsor, alarm, title="x", description="x", evidence="")


def _close(plant: Plant, deviation: Deviation) -> None:
    qa = plant.user("cdmo_qa")
    deviations.classify(qa, deviation, "major", "Temperature excursion", "c")
    deviations.start_investigation(qa, deviation, "i")
    deviations.record_investigation(qa, deviation, "equipment", "Controller failed", "r")
    digest = signing.content_sha256(signing.canonical_content(deviation))
    deviations.close(
        qa, deviation, password=PASSWORD, totp_code="", reason="ok", seen_sha256=digest
    )


def test_alarm_verdict_is_shown_and_blocks_until_a_closed_deviation_covers_it(
    judged: Plant, client_for: Any
) -> None:
    """The review page and the CoA carry the verdict sentence; the alarm verdict blocks the
    CDMO's disposition until the deviation raised from its alarm is closed."""
    batch = judged.faulty
    qa = judged.user("cdmo_qa")
    with caller_scope(qa):
        manufacturing.change_state(batch, to="under_review", actor=qa, reason="review")
    review = disposition.review_of(batch)
    assert review.verdict is not None
    assert review.verdict.startswith("Alarm by ")
    assert "SPE" in review.verdict
    assert "above its limit" in review.verdict
    assert review.verdict_alarm
    assert any("Batch monitoring judged" in b for b in review.blockers)
    page = client_for(qa).get(reverse("quality:batch-review", args=[batch.pk])).content.decode()
    assert "Batch monitoring judged" in page
    assert 'data-testid="dispose-form"' not in page
    with pytest.raises(ValidationError, match="Batch monitoring judged"):
        disposition.dispose(
            qa, batch, decision="release", password=PASSWORD, totp_code="", reason="x"
        )
    alarm = _alarm(batch)
    draft = deviations.alarm_draft(alarm)
    raised = deviations.raise_from_alarm(
        judged.user("cdmo_msat"),
        alarm,
        title=draft.title,
        description=draft.description,
        evidence=draft.evidence,
    )
    _close(judged, raised)
    assert disposition.review_of(batch).blockers == []
    disposition.dispose(
        qa, batch, decision="release", password=PASSWORD, totp_code="", reason="Covered"
    )
    coa = client_for(qa).get(reverse("quality:batch-coa", args=[batch.pk]))
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(coa.content)).pages)
    assert "Process data" in text
    assert "Alarm by" in " ".join(text.split())


def test_normal_verdict_does_not_block(judged: Plant, client_for: Any) -> None:
    """A normal batch's verdict is shown as normal and nothing blocks its release."""
    batch = judged.normal[-1]
    services.judge_batch(batch)
    qa = judged.user("cdmo_qa")
    with caller_scope(qa):
        manufacturing.change_state(batch, to="under_review", actor=qa, reason="review")
    review = disposition.review_of(batch)
    assert review.verdict is not None
    assert review.verdict.startswith("Normal by ")
    assert "within its limit" in review.verdict
    assert not review.verdict_alarm
    assert review.blockers == []
    page = client_for(qa).get(reverse("quality:batch-review", args=[batch.pk])).content.decode()
    assert review.verdict.split(":")[0] in page
    assert 'data-testid="dispose-form"' in page


def test_a_batch_without_a_verdict_says_so(judged: Plant) -> None:
    """Before any verdict the review has none and no blocker from monitoring."""
    review = disposition.review_of(judged.running)
    assert review.verdict is None
    assert not review.verdict_alarm
    assert not any("monitoring" in b for b in review.blockers)
