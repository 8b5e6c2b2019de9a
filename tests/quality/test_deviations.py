"""Deviations: raised by CDMO staff, classified by QA with the sponsor told and the notice
judged against the quality agreement's hours from raising, closed only by a valid signature."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django_scopes import scopes_disabled

from opencdmo.audit.models import AuditEntry
from opencdmo.notifications.models import Notification
from opencdmo.quality import deviations, signing
from opencdmo.quality.records import Deviation
from tests.conftest import PASSWORD, World
from tests.quality.records_world import make_batch


def _raise(world: World, agreement: Any, hours_ago: float = 1, batches: Any = ()) -> Deviation:
    return deviations.raise_deviation(
        world.user("alpha-bio", "cdmo_operator"),
        agreement.project,
        title="Bioreactor pH excursion",
        description="pH 6.6 for 40 min on day 5",
        batches=batches,
        raised_at=timezone.now() - dt.timedelta(hours=hours_ago),
    )


def _investigated(world: World, agreement: Any) -> Deviation:
    qa = world.user("alpha-bio", "cdmo_qa")
    deviation = _raise(world, agreement)
    deviations.classify(qa, deviation, "minor", "No product impact", "Classified")
    deviations.start_investigation(qa, deviation, "Investigate")
    return deviations.record_investigation(
        qa, deviation, "equipment", "pH probe drift; recalibrated", "Findings"
    )


def test_raising_tells_the_cdmo_qa_and_is_audited(world: World, agreement: Any) -> None:
    """Raised from a batch by an operator: open, linked, audited, QA's inbox has it."""
    batch = make_batch(world, agreement)
    deviation = _raise(world, agreement, batches=[batch])
    assert deviation.state == "open"
    with scopes_disabled():
        assert list(deviation.batches.all()) == [batch]
        assert AuditEntry.objects.filter(action="opencdmo.deviation.created").count() == 1
        assert Notification.objects.filter(
            user=world.user("alpha-bio", "cdmo_qa"), event="deviation.raised"
        ).exists()


def test_sponsor_may_not_raise(world: World, agreement: Any) -> None:
    """A sponsor reads deviations of its projects but raises none."""
    with pytest.raises(PermissionDenied):
        deviations.raise_deviation(
            world.user("sponsor-one", "sponsor_qa"), agreement.project, title="x", description="y"
        )


def test_classification_tells_the_sponsor_in_time(world: World, agreement: Any) -> None:
    """Classified minor within 720 h of raising: the sponsor's QA is told, not late."""
    deviation = _raise(world, agreement, hours_ago=5)
    deviations.classify(world.user("alpha-bio", "cdmo_qa"), deviation, "minor", "Alarm", "Why")
    deviation.refresh_from_db()
    assert deviation.state == "classified"
    assert deviation.notice_due_at == deviation.raised_at + dt.timedelta(hours=720)
    assert not deviation.notice_late
    with scopes_disabled():
        told = Notification.objects.get(event="deviation.classified")
    assert told.user == world.user("sponsor-one", "sponsor_qa")
    assert deviation.reference in told.title


def test_critical_classified_after_its_hours_is_late(
    world: World, agreement: Any, client_for: Any
) -> None:
    """Critical (24 h) classified 30 h after raising: the notice shows late on both sides."""
    deviation = _raise(world, agreement, hours_ago=30)
    deviations.classify(world.user("alpha-bio", "cdmo_qa"), deviation, "critical", "Sterility", "W")
    deviation.refresh_from_db()
    assert deviation.notice_late
    page = client_for(world.user("sponsor-one", "sponsor_qa")).get(
        f"/quality/deviations/{deviation.pk}/"
    )
    assert page.status_code == 200
    assert 'data-testid="notice-late"' in page.content.decode()


def test_only_qa_classifies(world: World, agreement: Any, client_for: Any) -> None:
    """An operator is refused (403) and the deviation stays open."""
    deviation = _raise(world, agreement)
    client = client_for(world.user("alpha-bio", "cdmo_operator"))
    response = client.post(
        f"/quality/deviations/{deviation.pk}/classify/",
        {"classification": "major", "rationale": "x", "reason": "y"},
    )
    assert response.status_code == 403
    deviation.refresh_from_db()
    assert deviation.state == "open"


def test_closing_needs_a_valid_signature(world: World, agreement: Any, client_for: Any) -> None:
    """A wrong password is refused and changes nothing; the right one closes with a signature
    meaning approved."""
    deviation = _investigated(world, agreement)
    qa = world.user("alpha-bio", "cdmo_qa")
    digest = signing.content_sha256(signing.canonical_content(deviation))
    client = client_for(qa)
    url = f"/quality/deviations/{deviation.pk}/close/"
    wrong = client.post(url, {"password": "wrong", "reason": "Close", "seen_sha256": digest})
    assert wrong.status_code == 400
    assert "password is not correct" in wrong.content.decode()
    deviation.refresh_from_db()
    assert deviation.state == "under_investigation"
    assert deviation.closed_at is None
    right = client.post(url, {"password": PASSWORD, "reason": "Close", "seen_sha256": digest})
    assert right.status_code == 302
    deviation.refresh_from_db()
    assert deviation.state == "closed"
    (shown,) = deviations.quality.signatures_of(deviation)
    assert shown.signature.meaning == "approved"
    assert shown.current


def test_closing_before_the_investigation_is_refused(world: World, agreement: Any) -> None:
    """An open deviation cannot be closed, whatever the password."""
    deviation = _raise(world, agreement)
    with pytest.raises(ValidationError, match="under_investigation"):
        deviations.close(
            world.user("alpha-bio", "cdmo_qa"),
            deviation,
            password=PASSWORD,
            totp_code="",
            reason="x",
            seen_sha256="",
        )


def test_another_cdmo_sees_nothing(world: World, agreement: Any, client_for: Any) -> None:
    """Another tenant's deviation answers 404 and is not listed."""
    deviation = _raise(world, agreement)
    client = client_for(world.user("beta-pharma", "cdmo_qa"))
    assert client.get(f"/quality/deviations/{deviation.pk}/").status_code == 404
    assert deviation.reference not in client.get("/quality/deviations/").content.decode()


def test_raise_page_from_a_batch(world: World, agreement: Any, client_for: Any) -> None:
    """The page raises a deviation linked to the batch it came from; a blank title is named."""
    batch = make_batch(world, agreement)
    client = client_for(world.user("alpha-bio", "cdmo_operator"))
    bad = client.post("/quality/deviations/new/", {"batch": batch.pk, "description": "d"})
    assert bad.status_code == 400
    assert "title" in bad.content.decode()
    response = client.post(
        "/quality/deviations/new/", {"batch": batch.pk, "title": "Leak", "description": "d"}
    )
    assert response.status_code == 302
    with scopes_disabled():
        assert Deviation.objects.get(title="Leak").batches.get() == batch
