"""A site's solve whose worker stopped: queued again within the lease, or failed with the
reason, and the request still reaches 'options ready'."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.utils import timezone
from django_scopes import scopes_disabled
from django_tasks_db.models import DBTaskResult

from opencdmo.projects.models import CapacityRequest, Option
from opencdmo.projects.tasks import OPTION_SOLVES
from tests.conftest import World
from tests.projects.test_capable_to_promise import _request_body


def _running_option(ctp_world: World, client_for: Any, attempts: int) -> Option:
    sponsor = client_for(ctp_world.user("sponsor-one", "sponsor_manager"))
    body = json.dumps(_request_body())
    created = sponsor.post("/api/v1/requests", body, content_type="application/json").json()
    with scopes_disabled():
        Option.objects.filter(request_id=created["id"]).update(
            status=Option.Status.RUNNING,
            attempts=attempts,
            heartbeat_at=timezone.now() - dt.timedelta(minutes=5),
        )
        return Option.objects.get(request_id=created["id"])


def test_a_lost_solve_is_queued_again(ctp_world: World, client_for: Any, settings: Any) -> None:
    settings.JOB_ATTEMPTS = 2
    option = _running_option(ctp_world, client_for, attempts=1)
    queued_before = DBTaskResult.objects.count()
    assert OPTION_SOLVES.recover() == [f"option {option.pk}: its worker stopped; queued again"]
    option.refresh_from_db()
    assert option.status == Option.Status.QUEUED
    assert DBTaskResult.objects.count() == queued_before + 1


def test_a_live_lease_is_left_alone(ctp_world: World, client_for: Any) -> None:
    option = _running_option(ctp_world, client_for, attempts=1)
    with scopes_disabled():
        Option.objects.filter(pk=option.pk).update(heartbeat_at=timezone.now())
    assert OPTION_SOLVES.recover() == []


def test_a_solve_out_of_attempts_fails_and_the_request_is_ranked(
    ctp_world: World, client_for: Any, settings: Any
) -> None:
    settings.JOB_ATTEMPTS = 2
    option = _running_option(ctp_world, client_for, attempts=2)
    (line,) = OPTION_SOLVES.recover()
    assert "failed, the worker stopped while solving" in line
    with scopes_disabled():
        option.refresh_from_db()
        assert option.status == Option.Status.FAILED
        assert option.reasons == ["the worker stopped while solving this; it was tried 2 times"]
        state = CapacityRequest.objects.get(pk=option.request_id).state
    assert state == CapacityRequest.State.OPTIONS_READY
