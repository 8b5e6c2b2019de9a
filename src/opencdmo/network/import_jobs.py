"""Queueing uploaded network files for import by the task worker.

An upload is kept in the organisation's import folder under its SHA-256 (written atomically,
so the same file sent twice is stored once), before the job that names it is created.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from opencdmo.accounts.models import User
from opencdmo.accounts.roles import IMPORT_NETWORK
from opencdmo.core.files import FileStore
from opencdmo.network.importer import KINDS
from opencdmo.network.models import ImportJob
from opencdmo.network.tasks import run_import_job

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
SUFFIXES = (".csv", ".xlsx")


def queue_import(
    *, actor: User, upload: UploadedFile, kind: str = "", dry_run: bool = False
) -> ImportJob:
    """Keep the uploaded file and queue its import; the worker runs it as ``actor``."""
    if not actor.can(IMPORT_NETWORK):
        raise PermissionDenied("Your role may not import sites, suites or equipment.")
    name = Path(upload.name or "upload").name
    if Path(name).suffix.lower() not in SUFFIXES:
        raise ValidationError({"file": f"{name}: only .csv and .xlsx files can be imported."})
    if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError({"file": f"{name}: larger than {MAX_UPLOAD_BYTES // 2**20} MB."})
    if kind and kind not in KINDS:
        raise ValidationError(
            {"kind": f"Unknown kind '{kind}'; choose one of: {', '.join(KINDS)}."}
        )
    store = FileStore(Path(settings.DATA_DIR) / "imports" / str(actor.organisation_id))
    stored = store.put(upload.chunks(), suffix=Path(name).suffix.lower())
    with transaction.atomic():
        job = ImportJob.objects.create(
            organisation_id=actor.organisation_id,
            user=actor,
            filename=name,
            stored_path=str(stored.path),
            sha256=stored.sha256,
            kind=kind,
            dry_run=dry_run,
        )
        # The database backend queues in this same transaction: the job and its task are
        # written together or not at all, and the job knows its task from the start.
        job.task_id = str(run_import_job.enqueue(job.pk).id)
        job.save(update_fields=["task_id"])
    return job
