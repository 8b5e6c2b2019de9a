"""The import list polls only while a job may still change, and its polls do not keep an idle
session alive."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_scopes import scopes_disabled

from opencdmo.accounts.middleware import POLL_HEADER
from opencdmo.network.import_jobs import queue_import
from opencdmo.network.models import ImportJob

pytestmark = pytest.mark.django_db

SITES = b"owner,code,name,country,region,city,latitude,longitude\n"
POLL = {"HTTP_HX_REQUEST": "true", f"HTTP_{POLL_HEADER.upper().replace('-', '_')}": "1"}


@pytest.fixture
def job(world: Any, settings: Any, tmp_path: Path) -> ImportJob:
    settings.DATA_DIR = tmp_path
    upload = SimpleUploadedFile("sites.csv", SITES)
    return queue_import(actor=world.user("alpha-bio", "cdmo_admin"), upload=upload)


def _set(job: ImportJob, **fields: Any) -> None:
    with scopes_disabled():
        ImportJob.objects.filter(pk=job.pk).update(**fields)


def _fragment(client: Any) -> str:
    response = client.get("/sites/import/", **POLL)
    assert response.status_code == 200
    return str(response.content.decode())


@pytest.mark.parametrize(
    ("status", "polls"),
    [
        ("queued", True),
        ("running", True),
        ("imported", False),
        ("rejected", False),
        ("failed", False),
    ],
)
def test_the_fragment_polls_only_while_the_job_is_pending(
    job: ImportJob, world: Any, client_for: Any, status: str, polls: bool
) -> None:
    """A finished or failed job's fragment carries no poll trigger, so the page stops asking."""
    _set(job, status=status, heartbeat_at=timezone.now())
    fragment = _fragment(client_for(world.user("alpha-bio", "cdmo_admin")))
    assert ('hx-trigger="every 2s"' in fragment) is polls
    assert ("hx-trigger" in fragment) is polls


def test_a_job_whose_worker_stopped_is_polled_for_rarely(
    job: ImportJob, world: Any, client_for: Any, settings: Any
) -> None:
    """A running job not heard from for a lease says so, and the fragment asks every 30 s
    (until a worker queues it again or fails it) instead of every 2 s."""
    settings.JOB_LEASE_S = 60
    _set(job, status="running", heartbeat_at=timezone.now() - timedelta(seconds=61))
    fragment = _fragment(client_for(world.user("alpha-bio", "cdmo_admin")))
    assert 'hx-trigger="every 30s"' in fragment
    assert "The worker stopped; the job waits for another worker." in fragment


def _expiry(client: Any) -> Any:
    return Session.objects.get(session_key=client.session.session_key).expire_date


def test_polls_do_not_restart_the_idle_timer_but_clicks_do(
    job: ImportJob, world: Any, client_for: Any
) -> None:
    """The session's expiry stays put on a background poll and moves on a real request."""
    client = client_for(world.user("alpha-bio", "cdmo_admin"))
    soon = timezone.now() + timedelta(minutes=1)
    Session.objects.update(expire_date=soon)
    _fragment(client)
    assert _expiry(client) == soon
    client.get("/sites/import/", HTTP_HX_REQUEST="true")
    assert _expiry(client) > soon + timedelta(minutes=5)


def test_the_import_page_sends_its_polls_as_background_polls(
    job: ImportJob, world: Any, client_for: Any
) -> None:
    """The polling element marks its requests, so the idle timer can tell them apart."""
    page = client_for(world.user("alpha-bio", "cdmo_admin")).get("/sites/import/")
    assert f'hx-headers=\'{{"{POLL_HEADER}": "1"}}\'' in page.content.decode()
