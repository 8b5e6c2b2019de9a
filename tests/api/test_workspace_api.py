"""A project's workspace and controlled documents over /api/v1: both parties read them,
anyone else is told they do not exist, messages tell whom they mention, and a document's file
is served only while it matches its SHA-256."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_scopes import scopes_disabled

from opencdmo.accounts import services as accounts
from opencdmo.core.tenancy import caller_scope
from opencdmo.notifications.models import Notification
from opencdmo.projects import document_services as documents
from opencdmo.projects import workspace_services as workspace
from opencdmo.projects.documents import DocumentVersion
from opencdmo.projects.workspace import Message
from opencdmo.quality import signing
from tests.conftest import PASSWORD, World
from tests.projects.workspace_world import awarded_project

pytestmark = pytest.mark.django_db
PLAN = b"%PDF-1.7 transfer plan"


def _client(user: Any, scope: str = "write") -> Client:
    _, secret = accounts.issue_token(user, "workspace api test", scope=scope)
    return Client(headers={"Authorization": f"Bearer {secret}"})


@pytest.fixture
def project(world: World, settings: Any, tmp_path: Path) -> Any:
    """alpha-bio's project for sponsor-one with a team, a milestone, a task and a document."""
    settings.DOCUMENT_STORE_DIR = tmp_path
    project = awarded_project(world)
    lead = world.user("alpha-bio", "cdmo_admin")
    sponsor_qa = world.user("sponsor-one", "sponsor_qa")
    with caller_scope(lead):
        workspace.add_member(project, actor=lead, user=lead, role="project_lead")
        workspace.add_member(project, actor=lead, user=sponsor_qa, role="qa")
        workspace.add_milestone(
            project,
            actor=lead,
            name="Tech transfer kick-off",
            kind="tech_transfer",
            planned_date=dt.date(2020, 1, 6),
        )
        workspace.add_task(
            project,
            actor=lead,
            title="Send the process description",
            owner=sponsor_qa,
            due_date=dt.date(2020, 1, 10),
        )
        documents.upload_document(
            project,
            actor=lead,
            number="TT-001",
            title="Transfer plan",
            upload=SimpleUploadedFile("plan.pdf", PLAN, content_type="application/pdf"),
        )
    return project


def _effective(world: World, version: DocumentVersion) -> None:
    """Approved by both parties' QA and made effective."""
    qa, sponsor_qa = world.user("alpha-bio", "cdmo_qa"), world.user("sponsor-one", "sponsor_qa")
    with caller_scope(qa):
        documents.submit_for_review(version, actor=qa, reviewers=[], approvers=[qa, sponsor_qa])
    for user in (qa, sponsor_qa):
        version.refresh_from_db()
        seen = signing.content_sha256(signing.canonical_content(version))
        with caller_scope(user):
            documents.sign_version(
                version, user, meaning="approved", password=PASSWORD, seen_sha256=seen
            )
    with caller_scope(qa):
        documents.make_effective(version, actor=qa, reason="Approved by both parties")


def test_both_parties_read_the_workspace(world: World, project: Any) -> None:
    """Team, milestones and tasks with their overdue flags, for the CDMO and the sponsor."""
    for org, role in (("alpha-bio", "cdmo_operator"), ("sponsor-one", "sponsor_viewer")):
        client = _client(world.user(org, role))
        team = client.get(f"/api/v1/projects/{project.pk}/team").json()
        assert [(m["username"], m["organisation"], m["role"]) for m in team] == [
            ("alpha-bio-cdmo_admin", "alpha-bio", "project_lead"),
            ("sponsor-one-sponsor_qa", "sponsor-one", "qa"),
        ]
        (milestone,) = client.get(f"/api/v1/projects/{project.pk}/milestones").json()
        assert (milestone["name"], milestone["state"], milestone["overdue"]) == (
            "Tech transfer kick-off",
            "planned",
            True,
        )
        (task,) = client.get(f"/api/v1/projects/{project.pk}/tasks").json()
        assert (task["owner"], task["done"], task["overdue"]) == (
            "sponsor-one-sponsor_qa",
            False,
            True,
        )


@pytest.mark.parametrize("path", ["team", "milestones", "tasks", "messages", "documents"], ids=str)
def test_others_are_told_the_project_does_not_exist(world: World, project: Any, path: str) -> None:
    for org, role in (("beta-pharma", "cdmo_admin"), ("sponsor-two", "sponsor_qa")):
        response = _client(world.user(org, role)).get(f"/api/v1/projects/{project.pk}/{path}")
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}


def test_a_message_tells_whom_it_mentions(world: World, project: Any) -> None:
    """Posted by the sponsor to the project's thread: the mentioned CDMO member is told, the
    message is in the thread both parties read; a read token posts nothing."""
    sponsor = _client(world.user("sponsor-one", "sponsor_viewer"))
    body = {"body": "@alpha-bio-cdmo_msat please check the pH ranges"}
    posted = sponsor.post(
        f"/api/v1/projects/{project.pk}/messages", json.dumps(body), content_type="application/json"
    )
    assert posted.status_code == 201, posted.content
    assert posted.json()["mentions"] == ["alpha-bio-cdmo_msat"]
    with scopes_disabled():
        assert Notification.objects.filter(
            user=world.user("alpha-bio", "cdmo_msat"), event=workspace.MENTIONED
        ).exists()
    thread = _client(world.user("alpha-bio", "cdmo_planner")).get(
        f"/api/v1/projects/{project.pk}/messages"
    )
    assert [m["author"] for m in thread.json()] == ["sponsor-one-sponsor_viewer"]
    reader = _client(world.user("sponsor-one", "sponsor_viewer"), scope="read")
    refused = reader.post(
        f"/api/v1/projects/{project.pk}/messages", json.dumps(body), content_type="application/json"
    )
    assert refused.status_code == 403
    with scopes_disabled():
        assert Message.objects.count() == 1


def test_a_record_thread_is_its_own(world: World, project: Any) -> None:
    """A message on a document goes to the document's thread, not the project's."""
    with scopes_disabled():
        document = project.documents.get()
    client = _client(world.user("alpha-bio", "cdmo_qa"))
    record = {"record_type": "projects.document", "record_id": str(document.pk)}
    posted = client.post(
        f"/api/v1/projects/{project.pk}/messages",
        json.dumps({"body": "Section 4 needs the new ranges", **record}),
        content_type="application/json",
    )
    assert posted.status_code == 201, posted.content
    assert client.get(f"/api/v1/projects/{project.pk}/messages").json() == []
    on_record = client.get(f"/api/v1/projects/{project.pk}/messages", record).json()
    assert [m["body"] for m in on_record] == ["Section 4 needs the new ranges"]
    missing = {"record_type": "projects.document", "record_id": "987654"}
    assert client.get(f"/api/v1/projects/{project.pk}/messages", missing).status_code == 404


def test_documents_list_versions_with_the_effective_one_first(world: World, project: Any) -> None:
    """The effective version comes first with its SHA-256, routes and both signatures."""
    with scopes_disabled():
        version = DocumentVersion.objects.get()
    _effective(world, version)
    lead = world.user("alpha-bio", "cdmo_admin")
    with caller_scope(lead), scopes_disabled():
        documents.upload_version(
            version.document,
            actor=lead,
            title="Transfer plan, revised",
            upload=SimpleUploadedFile("plan-2.pdf", b"%PDF-1.7 revised"),
        )
    sponsor = _client(world.user("sponsor-one", "sponsor_viewer"))
    (listed,) = sponsor.get(f"/api/v1/projects/{project.pk}/documents").json()
    assert (listed["number"], listed["version"], listed["effective_version"]) == ("TT-001", 1, 1)
    detail = sponsor.get(f"/api/v1/documents/{listed['id']}").json()
    assert [(v["version"], v["state"]) for v in detail["versions"]] == [
        (1, "effective"),
        (2, "draft"),
    ]
    effective = detail["versions"][0]
    assert effective["sha256"] == hashlib.sha256(PLAN).hexdigest()
    assert [(r["organisation"], r["step"], r["signed"]) for r in effective["routes"]] == [
        ("alpha-bio", "approve", True),
        ("sponsor-one", "approve", True),
    ]
    assert [s["meaning"] for s in effective["signatures"]] == ["approved", "approved"]
    assert all(s["current"] for s in effective["signatures"])


def test_a_file_is_served_only_while_it_matches_its_hash(
    world: World, project: Any, settings: Any
) -> None:
    """The bytes with their SHA-256; a stored file changed behind the store's back is
    refused (409); another organisation is told it does not exist."""
    with scopes_disabled():
        version = DocumentVersion.objects.get()
    path = f"/api/v1/document-versions/{version.pk}/file"
    client = _client(world.user("sponsor-one", "sponsor_qa"))
    response = client.get(path)
    assert response.status_code == 200
    assert response.content == PLAN
    assert response["X-Content-SHA256"] == hashlib.sha256(PLAN).hexdigest()
    assert response["Content-Disposition"].startswith("attachment")
    assert _client(world.user("beta-pharma", "cdmo_qa")).get(path).status_code == 404
    with scopes_disabled():
        stored = documents.store_of(project).path(version.stored_key)
    stored.chmod(0o644)
    stored.write_bytes(b"%PDF-1.7 altered")
    changed = client.get(path)
    assert changed.status_code == 409
    assert "does not match its SHA-256" in changed.json()["detail"]
