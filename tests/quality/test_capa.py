"""CAPA against a deviation: actions with owners and due dates, overdue ones on the owner's
home page and in the digest, then the effectiveness check."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from opencdmo.notifications import services as notifications
from opencdmo.quality import capa as capas
from opencdmo.quality import deviations
from tests.conftest import World


def _capa(world: World, agreement: Any) -> Any:
    qa = world.user("alpha-bio", "cdmo_qa")
    deviation = deviations.raise_deviation(
        qa, agreement.project, title="Filter integrity failure", description="Post-use test"
    )
    deviations.classify(qa, deviation, "major", "Possible bioburden", "Classified")
    return capas.open_capa(
        qa,
        deviation,
        title="Replace filter supplier lot checks",
        effectiveness_criteria="No failure in the next 10 batches",
        effectiveness_due=dt.date(2027, 1, 1),
    )


def test_capa_needs_a_classified_deviation(world: World, agreement: Any) -> None:
    """An open deviation gets no CAPA yet."""
    qa = world.user("alpha-bio", "cdmo_qa")
    deviation = deviations.raise_deviation(qa, agreement.project, title="t", description="d")
    with pytest.raises(ValidationError, match="Classify"):
        capas.open_capa(
            qa, deviation, title="x", effectiveness_criteria="y", effectiveness_due=dt.date.today()
        )


def test_overdue_action_on_the_owners_home_and_digest(
    world: World, agreement: Any, client_for: Any
) -> None:
    """An action past its due date shows on its owner's home page and goes in the digest."""
    capa = _capa(world, agreement)
    owner = world.user("alpha-bio", "cdmo_operator")
    owner.email = "operator@alpha.example"
    owner.save()
    yesterday = timezone.now().date() - dt.timedelta(days=1)
    capas.add_action(
        world.user("alpha-bio", "cdmo_qa"),
        capa,
        description="Retrain operators",
        owner=owner,
        due_on=yesterday,
    )
    home = client_for(owner).get("/").content.decode()
    assert "Retrain operators" in home
    assert 'data-testid="overdue-capa"' in home
    assert notifications.send_digests() == 1
    (digest,) = [m for m in mail.outbox if m.to == [owner.email] and "overdue" in m.subject]
    assert "Retrain operators" in digest.body


def test_owner_outside_the_cdmo_is_refused(world: World, agreement: Any) -> None:
    """An action's owner is one of the CDMO's people, said by field."""
    capa = _capa(world, agreement)
    with pytest.raises(ValidationError, match="owner"):
        capas.add_action(
            world.user("alpha-bio", "cdmo_qa"),
            capa,
            description="x",
            owner=world.user("sponsor-one", "sponsor_qa"),
            due_on=dt.date(2027, 1, 1),
        )


def test_last_action_done_leads_to_the_effectiveness_check(world: World, agreement: Any) -> None:
    """Done actions move the CAPA to its check; the check closes it effective or not."""
    qa = world.user("alpha-bio", "cdmo_qa")
    capa = _capa(world, agreement)
    action = capas.add_action(
        qa, capa, description="Audit supplier", owner=qa, due_on=dt.date(2027, 1, 1)
    )
    with pytest.raises(ValidationError, match="open actions"):
        capas.check_effectiveness(qa, capa, effective=True, result="ok", reason="r")
    capas.complete_action(qa, action, "Audit done")
    capa.refresh_from_db()
    assert capa.state == "effectiveness_check"
    capas.check_effectiveness(qa, capa, effective=False, result="Failed again", reason="Check")
    capa.refresh_from_db()
    assert capa.state == "ineffective"


def test_sponsor_reads_the_capa_but_cannot_add_actions(
    world: World, agreement: Any, client_for: Any
) -> None:
    """The sponsor's QA reads the CAPA; adding an action answers 403."""
    capa = _capa(world, agreement)
    client = client_for(world.user("sponsor-one", "sponsor_qa"))
    assert client.get(f"/quality/capa/{capa.pk}/").status_code == 200
    response = client.post(f"/quality/capa/{capa.pk}/actions/", {"description": "x"})
    assert response.status_code == 403
