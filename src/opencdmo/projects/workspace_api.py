"""API: a project's workspace, the team, milestones, tasks and messages both parties share.

The project's CDMO and its sponsor read all of it and post messages (anyone else 404); a
message that mentions a member as ``@username`` tells them, as on the page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models
from django.http import Http404, HttpRequest
from django.utils import timezone
from django_scopes import scopes_disabled
from ninja import Field, Query, Router, Schema, Status

from opencdmo.api_errors import answers
from opencdmo.core.inputs import InputSchema
from opencdmo.core.tenancy import get_visible_or_404
from opencdmo.projects import workspace_services as services
from opencdmo.projects.models import Project
from opencdmo.projects.workspace import Message

router = Router(tags=["workspace"])


class MemberOut(Schema):
    id: int
    username: str
    name: str
    organisation: str = Field(..., description="The member's organisation (slug)")
    role: str = Field(
        ..., description="project_lead, qa, msat, planner, supply, regulatory or other"
    )
    added_at: dt.datetime


class MilestoneOut(Schema):
    id: int
    name: str
    kind: str = Field(..., description="tech_transfer or manufacturing")
    planned_date: dt.date
    actual_date: dt.date | None
    state: str = Field(..., description="planned, in_progress, done or cancelled")
    overdue: bool = Field(..., description="Not reached and past its planned date")


class TaskOut(Schema):
    id: int
    title: str
    owner: str = Field(..., description="Username of the person who owes it")
    owner_name: str
    due_date: dt.date
    done: bool
    overdue: bool
    created_at: dt.datetime


class MessageOut(Schema):
    id: int
    author: str = Field(..., description="The author's username")
    author_name: str
    body: str
    mentions: list[str] = Field(..., description="Usernames of the members it told")
    record_type: str = Field(..., description="app_label.model of the record's thread; ''")
    record_id: str
    posted_at: dt.datetime


class ThreadFilter(Schema):
    record_type: str | None = Field(None, max_length=100, description="app_label.model")
    record_id: str | None = Field(None, max_length=64)


class MessageIn(InputSchema):
    body: str = Field(..., min_length=1, max_length=10000)
    record_type: str = Field("", max_length=100, description="A record's thread: app_label.model")
    record_id: str = Field("", max_length=64)


def _project(request: HttpRequest, project_id: int) -> Project:
    project: Project = get_visible_or_404(Project, request.user, pk=project_id)
    return project


def _name(user: Any) -> str:
    return str(user.get_full_name() or user.username)


def _thread_record(
    request: HttpRequest, project: Project, record_type: str, record_id: str
) -> models.Model | None:
    """The record whose thread is meant, read by the caller and of this project (else 404)."""
    if not record_type and not record_id:
        return None
    found, record = services.thread_record(request.user, record_type, record_id)
    if found.pk != project.pk:
        raise Http404("No such record in this project.")
    return record


def _message(message: Message) -> dict[str, Any]:
    with scopes_disabled():
        author = message.author
    return {
        "id": message.pk,
        "author": author.username,
        "author_name": _name(author),
        "body": message.body,
        "mentions": list(message.mentions),
        "record_type": message.record_type,
        "record_id": message.record_id,
        "posted_at": message.posted_at,
    }


@router.get(
    "/projects/{project_id}/team",
    response=answers(list[MemberOut], 400, 401, 403, 404, 422),
    summary="The project's team: people of either party and their roles",
)
def list_team(request: HttpRequest, project_id: int) -> list[dict[str, Any]]:
    project = _project(request, project_id)
    with scopes_disabled():
        return [
            {
                "id": m.pk,
                "username": m.user.username,
                "name": _name(m.user),
                "organisation": m.user.organisation.slug if m.user.organisation_id else "",
                "role": m.role,
                "added_at": m.added_at,
            }
            for m in project.team.select_related("user__organisation")
        ]


@router.get(
    "/projects/{project_id}/milestones",
    response=answers(list[MilestoneOut], 400, 401, 403, 404, 422),
    summary="The project's milestones by planned date, with overdue flags",
)
def list_milestones(request: HttpRequest, project_id: int) -> list[dict[str, Any]]:
    project = _project(request, project_id)
    with scopes_disabled():
        milestones = list(project.milestones.all())
    return [
        {
            "id": m.pk,
            "name": m.name,
            "kind": m.kind,
            "planned_date": m.planned_date,
            "actual_date": m.actual_date,
            "state": m.state,
            "overdue": m.overdue,
        }
        for m in milestones
    ]


@router.get(
    "/projects/{project_id}/tasks",
    response=answers(list[TaskOut], 400, 401, 403, 404, 422),
    summary="The project's tasks, open ones first by due date, with overdue flags",
)
def list_tasks(request: HttpRequest, project_id: int) -> list[dict[str, Any]]:
    project = _project(request, project_id)
    today = timezone.localdate()
    with scopes_disabled():
        return [
            {
                "id": t.pk,
                "title": t.title,
                "owner": t.owner.username,
                "owner_name": _name(t.owner),
                "due_date": t.due_date,
                "done": t.done,
                "overdue": t.overdue_on(today),
                "created_at": t.created_at,
            }
            for t in project.tasks.select_related("owner")
        ]


@router.get(
    "/projects/{project_id}/messages",
    response=answers(list[MessageOut], 400, 401, 403, 404, 422),
    summary="The project's thread, or one record's with record_type and record_id",
)
def list_messages(
    request: HttpRequest, project_id: int, filters: Query[ThreadFilter]
) -> list[dict[str, Any]]:
    project = _project(request, project_id)
    record = _thread_record(request, project, filters.record_type or "", filters.record_id or "")
    return [_message(m) for m in services.thread(project, record)]


@router.post(
    "/projects/{project_id}/messages",
    response=answers(MessageOut, 400, 401, 403, 404, 422, success=201),
    summary="Post to the project's thread (or a record's); mentioned members are told",
)
def post_message(request: HttpRequest, project_id: int, payload: MessageIn) -> Status:
    project = _project(request, project_id)
    record = _thread_record(request, project, payload.record_type, payload.record_id)
    message = services.post_message(project, actor=request.user, body=payload.body, record=record)
    return Status(201, _message(message))
