"""Background work of the network app, run by ``opencdmo worker``.

A run holds a lease on its job: a thread renews ``heartbeat_at`` every quarter of
``settings.JOB_LEASE_S`` while the import runs. A job whose lease ran out (its worker was
killed, its machine stopped) is handed back to the queue by the next worker that looks, until
``settings.JOB_ATTEMPTS`` runs have been started; then it is marked failed with the reason.
The file is read and checked outside any transaction; the rows and the job's outcome are
then written in one short transaction, so a run that died wrote nothing and a re-run is
safe, and a job that finished is never run again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django_scopes import scopes_disabled
from django_tasks import TaskResultStatus, task
from django_tasks_db.models import DBTaskResult

from opencdmo.accounts.tenancy import caller_scope
from opencdmo.network.importer import ImportReport, import_file
from opencdmo.network.models import ImportJob

logger = logging.getLogger(__name__)

WORKER_STOPPED = "the worker stopped while running this job"


class WorkerStoppedError(Exception):
    """Recorded on a task result whose worker stopped before the job finished."""


class LeaseLostError(Exception):
    """The job was handed to another worker while this run was still going."""


@task()
def run_import_job(job_id: int) -> str:
    """Import one uploaded file as the user who sent it; record the outcome on the job."""
    with scopes_disabled():
        job = ImportJob.objects.select_related("user").get(pk=job_id)
        claimed = ImportJob.objects.filter(
            pk=job.pk, status=ImportJob.Status.QUEUED, attempts=job.attempts
        ).update(
            status=ImportJob.Status.RUNNING, attempts=F("attempts") + 1, heartbeat_at=timezone.now()
        )
    if not claimed:
        return job.status
    attempt = job.attempts + 1
    try:
        with _heartbeat(job.pk, attempt), caller_scope(job.user):
            return _import(job, attempt)
    except (KeyboardInterrupt, SystemExit):
        _hand_back(job.pk, attempt)
        raise


def _import(job: ImportJob, attempt: int) -> str:
    """The import, its outcome recorded in the transaction that writes the rows."""

    def record_outcome(report: ImportReport) -> None:
        status = _outcome(job, rejected=not report.ok)
        _finish(job.pk, attempt, status, report.summary(), report.problem_lines())

    try:
        report = import_file(
            job.stored_path,
            job.filename,
            kind=job.kind or None,
            actor=job.user,
            dry_run=job.dry_run,
            record_outcome=record_outcome,
        )
        status = _outcome(job, rejected=not report.ok)
    except LeaseLostError:
        logger.warning(
            "Import job %s was handed to another worker; this run wrote nothing.", job.pk
        )
        return job.status
    except Exception as exc:
        status = str(ImportJob.Status.FAILED)
        try:
            _finish(job.pk, attempt, status, f"The import failed: {exc}", [])
        except LeaseLostError:
            return job.status
    return status


def _outcome(job: ImportJob, *, rejected: bool) -> str:
    if rejected:
        return str(ImportJob.Status.REJECTED)
    return str(ImportJob.Status.VALID if job.dry_run else ImportJob.Status.IMPORTED)


def _finish(job_id: int, attempt: int, status: str, summary: str, problems: list[str]) -> None:
    """Record the outcome, unless this run's lease was lost (then roll everything back)."""
    with scopes_disabled():
        written = ImportJob.objects.filter(
            pk=job_id, status=ImportJob.Status.RUNNING, attempts=attempt
        ).update(status=status, summary=summary, problems=problems, finished_at=timezone.now())
    if not written:
        raise LeaseLostError(job_id)


def _hand_back(job_id: int, attempt: int) -> None:
    """A worker stopped on purpose gives the job back; that run does not count as an attempt."""
    with scopes_disabled():
        ImportJob.objects.filter(
            pk=job_id, status=ImportJob.Status.RUNNING, attempts=attempt
        ).update(status=ImportJob.Status.QUEUED, attempts=F("attempts") - 1, heartbeat_at=None)
    logger.warning("Import job %s was handed back to the queue: the worker is stopping.", job_id)


def heartbeat_interval_s() -> float:
    """A quarter of the lease, so three beats can be missed before the lease runs out."""
    return max(float(settings.JOB_LEASE_S) / 4, 0.1)


@contextmanager
def _heartbeat(job_id: int, attempt: int) -> Iterator[None]:
    """Renew the job's lease from a thread while the block runs."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(heartbeat_interval_s()):
                try:
                    with scopes_disabled():
                        ImportJob.objects.filter(
                            pk=job_id, status=ImportJob.Status.RUNNING, attempts=attempt
                        ).update(heartbeat_at=timezone.now())
                except OperationalError as exc:
                    # SQLite has one writer: a beat waits while another transaction holds
                    # the database, and is simply tried again.
                    logger.info("Heartbeat of import job %s delayed: %s", job_id, exc)
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"import-job-{job_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def lease_expired(job: ImportJob, now: datetime) -> bool:
    """True when the job is running but its worker has not been heard from for a lease."""
    if job.status != ImportJob.Status.RUNNING:
        return False
    cutoff = now - timedelta(seconds=float(settings.JOB_LEASE_S))
    return job.heartbeat_at is None or job.heartbeat_at < cutoff


def _is_lost(job: ImportJob, result: DBTaskResult | None, now: datetime) -> bool:
    """Whether no worker is running the job nor will: it must be queued again or failed."""
    if job.status == ImportJob.Status.RUNNING:
        return lease_expired(job, now)
    cutoff = now - timedelta(seconds=float(settings.JOB_LEASE_S))
    if result is None:
        return job.created_at < cutoff
    if result.status == TaskResultStatus.READY:
        return False
    if result.status == TaskResultStatus.RUNNING:
        return result.started_at is None or result.started_at < cutoff
    return True


def recover_lost_imports(now: datetime | None = None) -> list[str]:
    """Queue again, or fail after ``JOB_ATTEMPTS`` runs, every import whose worker stopped.

    Safe to run from any number of workers at once: each change is conditional on the job
    being as it was read, so only one worker acts on a job. Returns what was done, one line
    per job, for the worker's log.
    """
    now = now or timezone.now()
    done = []
    with scopes_disabled():
        jobs = list(
            ImportJob.objects.filter(status__in=(ImportJob.Status.QUEUED, ImportJob.Status.RUNNING))
        )
        task_ids = [job.task_id for job in jobs if job.task_id]
        results = {str(r.id): r for r in DBTaskResult.objects.filter(id__in=task_ids)}
        for job in jobs:
            result = results.get(job.task_id)
            if _is_lost(job, result, now):
                with transaction.atomic():
                    line = _recover(job, result, now)
                if line:
                    done.append(line)
    return done


def _recover(job: ImportJob, result: DBTaskResult | None, now: datetime) -> str:
    as_read = ImportJob.objects.filter(
        pk=job.pk, status=job.status, attempts=job.attempts, heartbeat_at=job.heartbeat_at
    )
    if job.attempts >= settings.JOB_ATTEMPTS:
        summary = f"The import failed: {WORKER_STOPPED} ({job.attempts} attempts)."
        if not as_read.update(status=ImportJob.Status.FAILED, summary=summary, finished_at=now):
            return ""
        if result is not None and result.status == TaskResultStatus.RUNNING:
            result.set_failed(WorkerStoppedError(WORKER_STOPPED))
        return f"Import job {job.pk} failed: {WORKER_STOPPED} ({job.attempts} attempts)."
    if not as_read.update(status=ImportJob.Status.QUEUED, heartbeat_at=None):
        return ""
    if result is None:
        job.task_id = str(run_import_job.enqueue(job.pk).id)
        job.save(update_fields=["task_id"])
    else:
        DBTaskResult.objects.filter(id=result.id).update(
            status=TaskResultStatus.READY,
            started_at=None,
            finished_at=None,
            return_value=None,
            exception_class_path="",
            traceback="",
        )
    return f"Import job {job.pk} queued again: {WORKER_STOPPED} (attempt {job.attempts})."
