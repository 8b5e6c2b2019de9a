"""Background work of the network app, run by ``opencdmo worker``."""

from __future__ import annotations

from django.utils import timezone
from django_scopes import scopes_disabled
from django_tasks import task

from opencdmo.accounts.tenancy import caller_scope
from opencdmo.network.importer import import_file
from opencdmo.network.models import ImportJob


@task()
def run_import_job(job_id: int) -> str:
    """Import one uploaded file as the user who sent it; record the outcome on the job."""
    with scopes_disabled():
        job = ImportJob.objects.select_related("user").get(pk=job_id)
    if not job.is_pending:
        return job.status
    with caller_scope(job.user):
        try:
            report = import_file(
                job.stored_path,
                job.filename,
                kind=job.kind or None,
                actor=job.user,
                dry_run=job.dry_run,
            )
        except Exception as exc:
            job.status, job.summary = ImportJob.Status.FAILED, f"The import failed: {exc}"
        else:
            job.summary = report.summary()
            job.problems = [str(problem) for problem in report.problems]
            if report.problems:
                job.status = ImportJob.Status.REJECTED
            else:
                job.status = ImportJob.Status.VALID if job.dry_run else ImportJob.Status.IMPORTED
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "summary", "problems", "finished_at"])
    return job.status
