"""Controlled documents: upload checks, the lifecycle with signatures, supersession, and
that a version changed after signing cannot become effective."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django_scopes import scopes_disabled

from opencdmo.core.tenancy import caller_scope
from opencdmo.projects import document_services as services
from opencdmo.projects.documents import Document, DocumentVersion
from opencdmo.quality import signing
from tests.conftest import PASSWORD, World
from tests.projects.workspace_world import awarded_project

pytestmark = pytest.mark.django_db
State = DocumentVersion.State


@pytest.fixture
def project(world: World, settings: Any, tmp_path: Path) -> Any:
    settings.DOCUMENT_STORE_DIR = tmp_path
    return awarded_project(world)


def _pdf(name: str = "transfer-plan.pdf", data: bytes = b"%PDF-1.7 transfer plan") -> Any:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def _sign(user: Any, version: DocumentVersion, meaning: str) -> None:
    version.refresh_from_db()
    seen = signing.content_sha256(signing.canonical_content(version))
    with caller_scope(user):
        services.sign_version(version, user, meaning=meaning, password=PASSWORD, seen_sha256=seen)


def _approved(world: World, version: DocumentVersion) -> DocumentVersion:
    """Reviewed by the CDMO's MSAT, approved by both parties' QA."""
    qa = world.user("alpha-bio", "cdmo_qa")
    with caller_scope(qa):
        services.submit_for_review(
            version,
            actor=qa,
            reviewers=[world.user("alpha-bio", "cdmo_msat")],
            approvers=[qa, world.user("sponsor-one", "sponsor_qa")],
        )
    _sign(world.user("alpha-bio", "cdmo_msat"), version, "reviewed")
    _sign(qa, version, "approved")
    _sign(world.user("sponsor-one", "sponsor_qa"), version, "approved")
    version.refresh_from_db()
    return version


def _effective(world: World, version: DocumentVersion) -> DocumentVersion:
    qa = world.user("alpha-bio", "cdmo_qa")
    with caller_scope(qa):
        return services.make_effective(version, actor=qa, reason="Training done")


def _upload(world: World, project: Any) -> DocumentVersion:
    qa = world.user("alpha-bio", "cdmo_qa")
    with caller_scope(qa):
        return services.upload_document(
            project, actor=qa, number="TT-001", title="Transfer plan", upload=_pdf()
        )


def test_upload_keeps_the_file_under_its_sha256(world: World, project: Any) -> None:
    version = _upload(world, project)
    assert version.state == State.DRAFT
    assert version.version == 1
    with services.open_file(version) as handle:
        assert handle.read() == b"%PDF-1.7 transfer plan"
    assert services.file_intact(version)


def test_lifecycle_to_effective_with_signatures(world: World, project: Any) -> None:
    """Draft → in review → approved by the last named signature → effective."""
    version = _upload(world, project)
    version = _approved(world, version)
    assert version.state == State.APPROVED
    version = _effective(world, version)
    assert version.state == State.EFFECTIVE
    assert version.effective_at is not None


def test_approval_waits_for_every_named_person(world: World, project: Any) -> None:
    version = _upload(world, project)
    qa = world.user("alpha-bio", "cdmo_qa")
    with caller_scope(qa):
        services.submit_for_review(
            version, actor=qa, reviewers=[], approvers=[qa, world.user("sponsor-one", "sponsor_qa")]
        )
    _sign(qa, version, "approved")
    version.refresh_from_db()
    assert version.state == State.IN_REVIEW
    with caller_scope(qa), pytest.raises(ValidationError):
        services.make_effective(version, actor=qa, reason="Too early")


def test_only_named_people_sign(world: World, project: Any) -> None:
    version = _upload(world, project)
    qa = world.user("alpha-bio", "cdmo_qa")
    with caller_scope(qa):
        services.submit_for_review(version, actor=qa, reviewers=[], approvers=[qa])
    with pytest.raises(PermissionDenied):
        _sign(world.user("sponsor-one", "sponsor_qa"), version, "approved")


def test_new_version_supersedes_the_effective_one(world: World, project: Any) -> None:
    first = _effective(world, _approved(world, _upload(world, project)))
    qa = world.user("alpha-bio", "cdmo_qa")
    with caller_scope(qa):
        document = first.document
        second = services.upload_version(
            document, actor=qa, title="Transfer plan", upload=_pdf(data=b"%PDF v2")
        )
    assert services.shown_version(document) == first
    _effective(world, _approved(world, second))
    first.refresh_from_db()
    assert first.state == State.SUPERSEDED
    assert services.shown_version(document) == second


def test_changed_after_signing_cannot_become_effective(
    world: World, project: Any, client_for: Any
) -> None:
    """A title changed after approval breaks the signatures: shown, and effectiveness refused."""
    version = _approved(world, _upload(world, project))
    qa = world.user("alpha-bio", "cdmo_qa")
    with caller_scope(qa):
        services.edit_version(version, actor=qa, reason="Typo", title="Transfer plan (rev)")
        with pytest.raises(ValidationError) as refused:
            services.make_effective(version, actor=qa, reason="Go")
    assert "changed since signing (title)" in str(refused.value.message_dict["state"])
    page = client_for(world.user("sponsor-one", "sponsor_qa")).get(
        f"/documents/{version.document_id}/"
    )
    assert 'data-testid="changed-since-signing"' in page.content.decode()
    version.refresh_from_db()
    assert version.state == State.APPROVED


def test_file_changed_on_disk_cannot_become_effective(world: World, project: Any) -> None:
    version = _approved(world, _upload(world, project))
    services.store_of(project).path(version.stored_key).write_bytes(b"%PDF forged")
    with pytest.raises(ValidationError, match="not the signed one"):
        _effective(world, version)


def _nothing_kept(project: Any, tmp_path: Path) -> None:
    with scopes_disabled():
        assert not Document.objects.filter(project=project).exists()
        assert not DocumentVersion.objects.exists()
    folder = tmp_path / str(project.cdmo_id)
    assert not folder.exists() or list(folder.iterdir()) == []


def test_too_large_upload_is_refused_and_nothing_kept(
    world: World, project: Any, settings: Any, tmp_path: Path
) -> None:
    settings.DOCUMENT_MAX_BYTES = 10
    with pytest.raises(ValidationError) as refused:
        _upload(world, project)
    assert "larger than the limit of 10 bytes" in str(refused.value.message_dict["file"])
    _nothing_kept(project, tmp_path)


@pytest.mark.parametrize(
    ("name", "data"),
    [("setup.exe", b"MZ\x90\x00"), ("plan.pdf", b"MZ\x90\x00 a program named .pdf")],
)
def test_forbidden_type_is_refused_and_nothing_kept(
    world: World, project: Any, tmp_path: Path, name: str, data: bytes
) -> None:
    qa = world.user("alpha-bio", "cdmo_qa")
    with caller_scope(qa), pytest.raises(ValidationError) as refused:
        services.upload_document(
            project, actor=qa, number="TT-9", title="X", upload=_pdf(name, data)
        )
    assert name in str(refused.value.message_dict["file"])
    _nothing_kept(project, tmp_path)


def test_page_shows_the_effective_version_by_default(
    world: World, project: Any, client_for: Any
) -> None:
    first = _effective(world, _approved(world, _upload(world, project)))
    qa = world.user("alpha-bio", "cdmo_qa")
    with caller_scope(qa):
        services.upload_version(
            first.document, actor=qa, title="Transfer plan, draft 2", upload=_pdf(data=b"%PDF 2")
        )
    client = client_for(world.user("sponsor-one", "sponsor_viewer"))
    text = client.get(f"/documents/{first.document_id}/").content.decode()
    assert 'data-testid="shown-version">v1 ' in text
    text = client.get(f"/documents/{first.document_id}/?version=2").content.decode()
    assert 'data-testid="shown-version">v2 ' in text


def test_upload_from_the_page_refuses_a_program_by_name(
    world: World, project: Any, client_for: Any
) -> None:
    client = client_for(world.user("sponsor-one", "sponsor_manager"))
    answer = client.post(
        f"/projects/{project.pk}/documents/new/",
        {"number": "SP-1", "title": "Tool", "file": _pdf("tool.exe", b"MZ")},
    )
    assert answer.status_code == 400
    assert "tool.exe: files of type .exe cannot be kept as documents." in answer.content.decode()


def test_download_for_both_parties_and_404_for_others(
    world: World, project: Any, client_for: Any
) -> None:
    version = _upload(world, project)
    url = f"/document-versions/{version.pk}/download/"
    sponsor = client_for(world.user("sponsor-one", "sponsor_viewer")).get(url)
    assert sponsor.status_code == 200
    assert sponsor.content == b"%PDF-1.7 transfer plan"
    other = client_for(world.user("beta-pharma", "cdmo_qa"))
    for page in (
        url,
        f"/documents/{version.document_id}/",
        f"/projects/{project.pk}/documents/",
    ):
        assert other.get(page).status_code == 404, page
    assert other.post(f"/document-versions/{version.pk}/sign/", {}).status_code == 404
