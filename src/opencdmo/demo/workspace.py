"""The workspace of every awarded demo project: a team of both parties, milestones, tasks
(one overdue), messages with a mention, and documents in every state with signed approvals.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_scopes import scopes_disabled

from opencdmo.accounts.models import User
from opencdmo.accounts.tenancy import caller_scope
from opencdmo.demo.world import DEMO_PASSWORD
from opencdmo.notifications import services as notifications
from opencdmo.projects import document_services as documents
from opencdmo.projects import workspace_services as workspace
from opencdmo.projects.documents import DocumentVersion
from opencdmo.projects.models import Project
from opencdmo.quality import signing


def _person(organisation_id: int, role: str) -> User:
    with scopes_disabled():
        return User.objects.filter(organisation_id=organisation_id, role=role).order_by("pk")[0]


def _file(name: str, text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(
        name, f"%PDF-1.7\n% {text}\n".encode(), content_type="application/pdf"
    )


def _sign(user: User, version: DocumentVersion, meaning: str) -> None:
    version.refresh_from_db()
    with caller_scope(user):
        documents.sign_version(
            version,
            user,
            meaning=meaning,
            password=DEMO_PASSWORD,
            reason="Read in full",
            seen_sha256=signing.content_sha256(signing.canonical_content(version)),
        )


def _through(version: DocumentVersion, people: dict[str, User], last: str) -> DocumentVersion:
    """Move a draft to ``last``: left a draft, in review (reviewed), approved, effective or
    obsolete."""
    qa = people["cdmo_qa"]
    if last == "draft":
        return version
    if last == "obsolete":
        with caller_scope(qa):
            return documents.make_obsolete(version, actor=qa, reason="Replaced by the site's SOP")
    with caller_scope(qa):
        documents.submit_for_review(
            version,
            actor=qa,
            reviewers=[people["cdmo_msat"]],
            approvers=[qa, people["sponsor_qa"]],
        )
    _sign(people["cdmo_msat"], version, "reviewed")
    if last == "in_review":
        return version
    _sign(qa, version, "approved")
    _sign(people["sponsor_qa"], version, "approved")
    version.refresh_from_db()
    if last == "effective":
        with caller_scope(qa):
            documents.make_effective(version, actor=qa, reason="Training on it is complete")
    return version


DOCUMENTS = (
    ("TT-001", "Technology transfer plan", "effective"),
    ("BR-002", "Master batch record", "approved"),
    ("SP-003", "Drug substance specification", "in_review"),
    ("PV-004", "Process validation protocol", "draft"),
    ("CL-005", "Cleaning procedure of the sponsor's pilot plant", "obsolete"),
)


def seed_workspace(project: Project, reason: str) -> None:
    """The workspace of one awarded project, written through the services as its people."""
    today = timezone.localdate()
    people = {
        role: _person(organisation, role)
        for organisation, roles in (
            (project.cdmo_id, ("cdmo_planner", "cdmo_qa", "cdmo_msat")),
            (project.sponsor_id, ("sponsor_manager", "sponsor_qa")),
        )
        for role in roles
    }
    planner = people["cdmo_planner"]
    with caller_scope(planner):
        for role, team_role in (
            ("cdmo_planner", "project_lead"),
            ("cdmo_qa", "qa"),
            ("cdmo_msat", "msat"),
            ("sponsor_manager", "project_lead"),
            ("sponsor_qa", "qa"),
        ):
            workspace.add_member(project, actor=planner, user=people[role], role=team_role)
        steps: list[tuple[str, str, int, str]] = [
            ("Kick-off and transfer package received", "tech_transfer", -40, "done"),
            ("Analytical methods transferred", "tech_transfer", -7, "in_progress"),
            ("Engineering run", "manufacturing", 20, "planned"),
            ("First GMP batch released", "manufacturing", 75, "planned"),
        ]
        for name, kind, days, state in steps:
            milestone = workspace.add_milestone(
                project,
                actor=planner,
                name=name,
                kind=kind,
                planned_date=today + dt.timedelta(days=days),
            )
            if state != "planned":
                changes: dict[str, Any] = {"state": state}
                if state == "done":
                    changes["actual_date"] = today + dt.timedelta(days=days + 2)
                workspace.update_milestone(milestone, actor=planner, reason=reason, **changes)
        workspace.add_task(
            project,
            actor=planner,
            title="Send the reference standard and its certificate",
            owner=people["sponsor_qa"],
            due_date=today - dt.timedelta(days=3),
        )
        workspace.add_task(
            project,
            actor=planner,
            title="Confirm the engineering run's sampling plan",
            owner=people["cdmo_msat"],
            due_date=today + dt.timedelta(days=10),
        )
        workspace.post_message(
            project, actor=planner, body="Welcome to the project workspace; the kick-off is done."
        )
    # The demo's people read their mentions in the inbox: the demo sends no e-mail while seeding.
    notifications.set_preferences(people["cdmo_msat"], {workspace.MENTIONED: "in_app"})
    sponsor_qa = people["sponsor_qa"]
    with caller_scope(sponsor_qa):
        workspace.post_message(
            project,
            actor=sponsor_qa,
            body=f"@{people['cdmo_msat'].username} the method transfer report is due with "
            "the engineering run; can you confirm the date?",
        )
    qa = people["cdmo_qa"]
    for number, title, last in DOCUMENTS:
        with caller_scope(qa):
            version = documents.upload_document(
                project,
                actor=qa,
                number=number,
                title=title,
                upload=_file(f"{number}.pdf", f"{title}, version 1"),
            )
        version = _through(version, people, last)
        if number == "TT-001":
            with caller_scope(qa):
                document = version.document
                second = documents.upload_version(
                    document,
                    actor=qa,
                    title=title,
                    summary="Sampling plan of the engineering run added",
                    upload=_file(f"{number}-v2.pdf", f"{title}, version 2"),
                )
            _through(second, people, "effective")


def seed_workspaces(reason: str) -> int:
    """Every awarded demo project's workspace; returns how many were seeded."""
    with scopes_disabled():
        projects = list(Project.objects.order_by("pk"))
    for project in projects:
        seed_workspace(project, reason)
    return len(projects)
