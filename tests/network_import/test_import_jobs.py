"""Queued imports: the upload is kept under its SHA-256, or not at all, and a rejected file
changes nothing in the database and leaves the kept upload as it was."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django_scopes import scopes_disabled

from opencdmo.network.import_jobs import queue_import
from opencdmo.network.models import ImportJob
from opencdmo.network.tasks import run_import_job

pytestmark = pytest.mark.django_db

GOOD = b"owner,code,name,country,region,city,latitude,longitude\n" + (
    b"alpha-bio,lyon,Alpha Lyon,FR,europe,Lyon,45.764,4.8357\n"
)
BAD = GOOD + b"alpha-bio,nice,Alpha Nice,FR,Mars,Nice,north,7.26\n"


class _BrokenUpload(SimpleUploadedFile):
    """An upload whose connection drops after the first chunk."""

    def chunks(self, chunk_size: int | None = None) -> Iterator[bytes]:
        yield b"owner,code\n"
        raise ConnectionResetError("client went away")


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def _jobs() -> int:
    with scopes_disabled():
        return ImportJob.objects.count()


def test_upload_is_kept_under_its_sha256(
    world: Any, settings: Any, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    """The stored file is named by its checksum, holds the bytes sent, and the job says so."""
    settings.DATA_DIR = tmp_path
    actor = world.user("alpha-bio", "cdmo_admin")
    with django_capture_on_commit_callbacks(execute=True):
        job = queue_import(actor=actor, upload=SimpleUploadedFile("sites.csv", GOOD))
    digest = hashlib.sha256(GOOD).hexdigest()
    stored = tmp_path / "imports" / str(actor.organisation_id) / f"{digest}.csv"
    assert (job.sha256, job.stored_path) == (digest, str(stored))
    assert _files(tmp_path) == [stored]
    assert stored.read_bytes() == GOOD


def test_refused_or_broken_uploads_keep_nothing(world: Any, settings: Any, tmp_path: Path) -> None:
    """A wrong file type stores nothing; an upload that breaks off leaves no file and no job."""
    settings.DATA_DIR = tmp_path
    actor = world.user("alpha-bio", "cdmo_admin")
    with pytest.raises(ValidationError, match=r"only \.csv and \.xlsx"):
        queue_import(actor=actor, upload=SimpleUploadedFile("sites.pdf", GOOD))
    with pytest.raises(ConnectionResetError):
        queue_import(actor=actor, upload=_BrokenUpload("sites.csv", b""))
    assert _files(tmp_path) == []
    assert _jobs() == 0


def test_a_rejected_file_changes_nothing_and_its_upload_stays_intact(
    world: Any,
    settings: Any,
    tmp_path: Path,
    db_counts: Callable[[], dict[str, int]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The worker rejects the file: no row or audit entry is written; the upload is kept as sent."""
    settings.DATA_DIR = tmp_path
    actor = world.user("alpha-bio", "cdmo_admin")
    before = db_counts()
    with django_capture_on_commit_callbacks(execute=False):
        job = queue_import(actor=actor, upload=SimpleUploadedFile("sites.csv", BAD))
    assert run_import_job.call(job.pk) == ImportJob.Status.REJECTED
    assert db_counts() == before
    assert hashlib.sha256(Path(job.stored_path).read_bytes()).hexdigest() == job.sha256
    assert _files(tmp_path) == [Path(job.stored_path)]
