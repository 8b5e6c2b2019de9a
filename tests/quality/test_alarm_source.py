"""The quality side of monitoring: a deviation raised from an alarm record and the verdict
on the review, with records made directly (the fitted-model journey is in
tests/analytics/test_alarm_deviations.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from opencdmo.analytics.models import Alarm, MonitoringModel, Verdict
from opencdmo.quality import deviations, disposition, signing
from opencdmo.quality.records import Deviation
from tests.conftest import PASSWORD, World
from tests.quality.records_world import make_batch


@pytest.fixture
def alarmed(world: World, agreement: Any) -> tuple[Any, Alarm]:
    """A batch under review with an alarm verdict and one SPE alarm."""
    batch = make_batch(world, agreement)
    with scopes_disabled():
        model = MonitoringModel.objects.create(
            site=batch.site, product=batch.project.product, version=1, name="mAb", run_length=3
        )
        Verdict.objects.create(
            batch=batch,
            model=model,
            status="alarm",
            t2=2.0,
            t2_limit=8.0,
            spe=120.0,
            spe_limit=40.0,
            contributions=[["temperature_c", 90.0, 0.5], ["ph", 10.0, 0.2]],
            first_alarm_h=59.3,
            model_label="mAb v1",
        )
        alarm = Alarm.objects.create(
            batch=batch,
            model=model,
            sample=30,
            time_h=59.29,
            statistic="spe",
            value=96.85,
            limit=73.51,
            contributions=[["ph", 59.3], ["jacket_temperature_c", 21.1]],
            model_label="mAb v1",
        )
    return batch, alarm


def test_the_draft_names_the_alarm_and_its_evidence(alarmed: tuple[Any, Alarm]) -> None:
    """Title with statistic, lot and hour; evidence with value against limit, the run and
    the contributions, largest first."""
    batch, alarm = alarmed
    draft = deviations.alarm_draft(alarm)
    assert draft.title == f"SPE alarm on {batch.lot} at 59.3 h"
    assert "96.85 against its limit 73.51" in draft.evidence
    assert "3 samples in a row" in draft.evidence
    assert draft.evidence.index("ph 59.3") < draft.evidence.index("jacket_temperature_c 21.1")


def test_an_operator_raises_from_the_alarm_and_the_deviation_points_back(
    world: World, alarmed: tuple[Any, Alarm], client_for: Any
) -> None:
    """An operator (who may raise deviations) raises it; a blank title shows the form again
    (400) with why; the deviation page links to the batch's monitoring page."""
    batch, alarm = alarmed
    operator = client_for(world.user("alpha-bio", "cdmo_operator"))
    url = reverse("quality:deviation-from-alarm", args=[alarm.pk])
    refused = operator.post(url, {"title": "", "description": "x", "reason": "r"})
    assert refused.status_code == 400
    assert "title" in refused.content.decode()
    answer = operator.post(
        url, {"title": "SPE alarm", "description": "Seen live", "evidence": "e", "reason": "r"}
    )
    assert answer.status_code == 302
    with scopes_disabled():
        deviation = Deviation.objects.get()
    assert deviation.source_id == str(alarm.pk)
    assert deviations.alarm_of(deviation) == alarm
    page = client_for(world.user("sponsor-one", "sponsor_qa")).get(answer["Location"])
    assert reverse("analytics:batch", args=[batch.pk]) in page.content.decode()


def test_a_cdmo_role_that_may_not_raise_deviations_finds_nothing(
    world: World, alarmed: tuple[Any, Alarm], client_for: Any
) -> None:
    """The planner of the batch's own CDMO may not raise deviations: 404, as for outsiders."""
    _, alarm = alarmed
    planner = client_for(world.user("alpha-bio", "cdmo_planner"))
    assert planner.get(reverse("quality:deviation-from-alarm", args=[alarm.pk])).status_code == 404


def test_alarm_verdict_blocks_until_a_closed_deviation_of_the_batch(
    world: World, alarmed: tuple[Any, Alarm]
) -> None:
    """The review's verdict sentence and its blocker; an open deviation still blocks (as
    open), a closed one lifts both."""
    batch, alarm = alarmed
    review = disposition.review_of(batch)
    assert review.verdict == (
        "Alarm by mAb v1: T² 2 within its limit 8, SPE 120 above its limit 40, first alarm at "
        "59.3 h; largest contributions to SPE: temperature_c, ph."
    )
    assert review.verdict_alarm
    assert review.blockers == [
        "Batch monitoring judged the process data an alarm and no closed deviation of the "
        "batch covers it: raise one from the alarm on the batch's monitoring page."
    ]
    operator = world.user("alpha-bio", "cdmo_operator")
    draft = deviations.alarm_draft(alarm)
    raised = deviations.raise_from_alarm(
        operator, alarm, title=draft.title, description=draft.description, evidence=""
    )
    assert len(disposition.review_of(batch).blockers) == 2
    qa = world.user("alpha-bio", "cdmo_qa")
    deviations.classify(qa, raised, "major", "Outside the envelope", "c")
    deviations.start_investigation(qa, raised, "i")
    deviations.record_investigation(qa, raised, "equipment", "Controller failed", "r")
    deviations.close(
        qa,
        raised,
        password=PASSWORD,
        totp_code="",
        reason="ok",
        seen_sha256=signing.content_sha256(signing.canonical_content(raised)),
    )
    assert disposition.review_of(batch).blockers == []
