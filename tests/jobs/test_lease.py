"""The lease on an import job, in one process: who may finish a job, and what a worker does
with a job whose worker stopped."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_scopes import scopes_disabled
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from opencdmo.network import tasks
from opencdmo.network.import_jobs import queue_import
from opencdmo.network.models import ImportJob, Site
from opencdmo.network.tasks import WORKER_STOPPED, recover_lost_imports, run_import_job

pytestmark = pytest.mark.django_db

SITES = (
    b"owner,code,name,country,region,city,latitude,longitude\n"
    b"alpha-bio,lyon,Alpha Lyon,FR,europe,Lyon,45.764,4.8357\n"
    b"alpha-bio,nice,Alpha Nice,FR,europe,Nice,43.7,7.26\n"
)


@pytest.fixture
def job(world: Any, settings: Any, tmp_path: Path) -> ImportJob:
    settings.DATA_DIR = tmp_path
    upload = SimpleUploadedFile("sites.csv", SITES)
    return queue_import(actor=world.user("alpha-bio", "cdmo_admin"), upload=upload)


def _sites() -> int:
    with scopes_disabled():
        return Site.objects.filter(code__in=("lyon", "nice")).count()


def _running(job: ImportJob, *, attempts: int, heard_s_ago: float) -> None:
    """The state a worker leaves behind when it is killed mid-import."""
    heard = timezone.now() - timedelta(seconds=heard_s_ago)
    with scopes_disabled():
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.RUNNING, attempts=attempts, heartbeat_at=heard
        )
    DBTaskResult.objects.filter(id=job.task_id).update(
        status=TaskResultStatus.RUNNING, started_at=heard, worker_ids=["killed"]
    )


def _reload(job: ImportJob) -> ImportJob:
    with scopes_disabled():
        return ImportJob.objects.get(pk=job.pk)


def test_the_job_and_its_task_are_queued_together(job: ImportJob) -> None:
    """The job names its django-tasks result from the start, waiting to be run."""
    assert DBTaskResult.objects.get(id=job.task_id).status == TaskResultStatus.READY


def test_a_finished_job_is_never_run_again(job: ImportJob) -> None:
    """Running a job twice imports once: the second run finds it finished and does nothing."""
    assert run_import_job.call(job.pk) == ImportJob.Status.IMPORTED
    assert run_import_job.call(job.pk) == ImportJob.Status.IMPORTED
    assert (_sites(), _reload(job).attempts) == (2, 1)


def test_a_live_lease_is_left_alone(job: ImportJob, settings: Any) -> None:
    """A running job heard from within the lease is not touched."""
    settings.JOB_LEASE_S = 60
    _running(job, attempts=1, heard_s_ago=30)
    assert recover_lost_imports() == []
    assert _reload(job).status == ImportJob.Status.RUNNING


def test_an_expired_lease_is_queued_again_on_the_same_task_result(
    job: ImportJob, settings: Any
) -> None:
    """The job goes back to the queue and its task result is made ready to run again."""
    settings.JOB_LEASE_S = 60
    _running(job, attempts=1, heard_s_ago=61)
    assert recover_lost_imports() == [
        f"Import job {job.pk} queued again: {WORKER_STOPPED} (attempt 1)."
    ]
    again = _reload(job)
    assert (again.status, again.attempts, again.task_id) == ("queued", 1, job.task_id)
    result = DBTaskResult.objects.get(id=job.task_id)
    assert (result.status, result.worker_ids) == (TaskResultStatus.READY, ["killed"])
    assert run_import_job.call(job.pk) == ImportJob.Status.IMPORTED
    assert (_sites(), _reload(job).attempts) == (2, 2)


def test_an_expired_lease_after_the_last_attempt_fails_the_job_with_the_reason(
    job: ImportJob, settings: Any
) -> None:
    """After ``JOB_ATTEMPTS`` runs the job and its task result are failed, saying why."""
    settings.JOB_LEASE_S, settings.JOB_ATTEMPTS = 60, 2
    _running(job, attempts=2, heard_s_ago=61)
    recover_lost_imports()
    failed = _reload(job)
    assert failed.status == ImportJob.Status.FAILED
    assert failed.summary == f"The import failed: {WORKER_STOPPED} (2 attempts)."
    assert failed.finished_at is not None
    result = DBTaskResult.objects.get(id=job.task_id)
    assert result.status == TaskResultStatus.FAILED
    assert result.exception_class_path == "opencdmo.network.tasks.WorkerStoppedError"
    assert run_import_job.call(job.pk) == ImportJob.Status.FAILED
    assert _sites() == 0


def test_a_run_that_lost_its_lease_writes_nothing(
    job: ImportJob, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """If the job was handed to another worker while this run imported, the rows written
    roll back with the outcome: a re-run never doubles what a presumed-dead worker wrote."""
    real_import = tasks.import_file

    def import_losing_the_lease_before_the_outcome(*args: Any, **kwargs: Any) -> Any:
        record_outcome = kwargs["record_outcome"]

        def lose_the_lease_then_record(report: Any) -> None:
            assert _sites() == 2, "the rows are written in the transaction of the outcome"
            with scopes_disabled():
                ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED)
            record_outcome(report)

        return real_import(*args, **{**kwargs, "record_outcome": lose_the_lease_then_record})

    monkeypatch.setattr(tasks, "import_file", import_losing_the_lease_before_the_outcome)
    run_import_job.call(job.pk)
    assert _sites() == 0
    assert f"Import job {job.pk} was handed to another worker" in caplog.text


def test_a_worker_stopped_mid_import_hands_the_job_back(
    job: ImportJob, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    """SystemExit (the worker's second SIGTERM) during the import: nothing is written, the
    job is queued again without using an attempt, and the next look makes its task ready."""

    def stopped(*args: Any, **kwargs: Any) -> Any:
        raise SystemExit(1)

    monkeypatch.setattr(tasks, "import_file", stopped)
    with pytest.raises(SystemExit):
        run_import_job.call(job.pk)
    handed_back = _reload(job)
    assert (handed_back.status, handed_back.attempts, _sites()) == ("queued", 0, 0)
    DBTaskResult.objects.filter(id=job.task_id).update(status=TaskResultStatus.FAILED)
    recover_lost_imports()
    assert DBTaskResult.objects.get(id=job.task_id).status == TaskResultStatus.READY
