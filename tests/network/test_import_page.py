"""Importing from the web: the upload is kept, queued, and imported by the task worker."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django_scopes import scopes_disabled
from django_tasks_db.models import DBTaskResult

from opencdmo.network.models import ImportJob, Site

HEADER = "owner,code,name,country,region,city,latitude,longitude\n"
LYON = "alpha-bio,lyon,Alpha Lyon,FR,europe,Lyon,45.764,4.8357\n"


def _upload(client: Any, content: str, name: str = "sites.csv", **extra: Any) -> Any:
    return client.post(
        "/sites/import/", {"file": SimpleUploadedFile(name, content.encode()), **extra}
    )


def _run_worker(monkeypatch: Any) -> None:
    """Run every queued task in this process, as ``opencdmo worker`` would.

    The worker closes connections that are inside a transaction, as a test's is; that
    housekeeping is skipped here so the test keeps its connection.
    """
    from django_tasks_db.management.commands import db_worker

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)


def test_upload_is_queued_then_imported_by_the_worker(
    world: Any,
    client_for: Any,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
    tmp_path: Any,
    monkeypatch: Any,
) -> None:
    """The page queues a task; the worker imports the file as the uploader."""
    settings.DATA_DIR = tmp_path
    client = client_for(world.user("alpha-bio", "cdmo_admin"))
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, HEADER + LYON)
    assert response.status_code == 302
    with scopes_disabled():
        job = ImportJob.objects.get()
    assert job.status == "queued"
    assert DBTaskResult.objects.filter(status="READY").count() == 1
    assert not Site.objects.filter(code="lyon").exists()
    _run_worker(monkeypatch)
    job.refresh_from_db()
    assert job.status == "imported"
    assert job.summary == "Imported 1 site from sites.csv."
    assert Site.objects.get(code="lyon").owner == world.orgs["alpha-bio"]
    assert (tmp_path / "imports").is_dir()
    page = client.get(f"/sites/import/{job.pk}/").content.decode()
    assert job.sha256 in page
    assert "Imported 1 site" in page


def test_rejected_file_lists_every_problem_and_writes_nothing(
    world: Any,
    client_for: Any,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
    tmp_path: Any,
    monkeypatch: Any,
) -> None:
    """Problems appear on the job page with line and column; no site is created."""
    settings.DATA_DIR = tmp_path
    client = client_for(world.user("alpha-bio", "cdmo_admin"))
    with django_capture_on_commit_callbacks(execute=True):
        _upload(client, HEADER + LYON + "alpha-bio,nice,Alpha Nice,FR,Mars,Nice,north,7.26\n")
    _run_worker(monkeypatch)
    with scopes_disabled():
        job = ImportJob.objects.get()
    assert job.status == "rejected"
    assert len(job.problems) == 2
    page = client.get(f"/sites/import/{job.pk}/").content.decode()
    assert "sites.csv, line 3, column &#x27;latitude&#x27;" in page
    assert not Site.objects.filter(code__in=["lyon", "nice"]).exists()


def test_wrong_file_type_is_refused_on_the_form(
    world: Any, client_for: Any, settings: Any, tmp_path: Any
) -> None:
    """Only CSV and Excel files are accepted; nothing is queued."""
    settings.DATA_DIR = tmp_path
    response = _upload(client_for(world.user("alpha-bio", "cdmo_admin")), "x", name="sites.pdf")
    assert response.status_code == 200
    assert "only .csv and .xlsx files can be imported" in response.content.decode()
    with scopes_disabled():
        assert not ImportJob.objects.exists()


def test_roles_without_import_permission_are_refused(world: Any, client_for: Any) -> None:
    """Planners and sponsors get 403 on the import page."""
    assert (
        client_for(world.user("alpha-bio", "cdmo_planner")).get("/sites/import/").status_code == 403
    )
    assert (
        client_for(world.user("sponsor-one", "sponsor_manager")).get("/sites/import/").status_code
        == 403
    )


def test_job_list_shows_own_organisation_only(world: Any, client_for: Any) -> None:
    """Another CDMO's imports never appear in the list."""
    with scopes_disabled():
        for slug in ("alpha-bio", "beta-pharma"):
            ImportJob.objects.create(
                organisation=world.orgs[slug],
                user=world.user(slug, "cdmo_admin"),
                filename=f"{slug}.csv",
                stored_path="/x",
                sha256="0" * 64,
            )
    page = client_for(world.user("alpha-bio", "cdmo_admin")).get("/sites/import/").content.decode()
    assert "alpha-bio.csv" in page
    assert "beta-pharma.csv" not in page
    assert 'hx-trigger="every 2s"' in page
