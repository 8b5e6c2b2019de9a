"""The workspace page of a project, and the small forms that write to it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_scopes import scopes_disabled

from opencdmo.core.inputs import add_service_errors
from opencdmo.core.tenancy import get_visible_or_404
from opencdmo.projects import workspace_services as services
from opencdmo.projects.models import Project
from opencdmo.projects.workspace import Milestone, Task
from opencdmo.projects.workspace_forms import (
    MemberForm,
    MessageForm,
    MilestoneForm,
    MilestoneUpdateForm,
    TaskForm,
)


def _project(request: HttpRequest, pk: int) -> Project:
    return get_visible_or_404(
        Project.objects.select_related("sponsor", "cdmo", "site"), request.user, pk=pk
    )


def _thread_of(request: HttpRequest, project: Project, key: str) -> models.Model | None:
    """The record named by ``key`` (``app_label.model:id``) in the project's workspace."""
    if not key:
        return None
    kind, _, record_id = key.partition(":")
    found, record = services.thread_record(request.user, kind, record_id)
    if found.pk != project.pk:
        raise Http404("No such record in this project.")
    return record


def _page(request: HttpRequest, project: Project, status: int = 200, **forms: Any) -> HttpResponse:
    key = request.GET.get("record", "") or request.POST.get("record", "")
    record = _thread_of(request, project, key)
    with scopes_disabled():
        team = list(project.team.select_related("user__organisation"))
        milestones = list(project.milestones.all())
        tasks = list(project.tasks.select_related("owner"))
    context = {
        "project": project,
        "team": team,
        "milestones": milestones,
        "tasks": tasks,
        "record": record,
        "thread": list(services.thread(project, record)),
        "message_form": forms.get("message_form") or MessageForm(initial={"record": key}),
        "member_form": forms.get("member_form") or MemberForm(project=project),
        "milestone_form": forms.get("milestone_form") or MilestoneForm(),
        "task_form": forms.get("task_form") or TaskForm(project=project),
        "milestone_update_form": forms.get("milestone_update_form"),
    }
    return render(request, "projects/workspace.html", context, status=status)


@login_required
def workspace(request: HttpRequest, pk: int) -> HttpResponse:
    """Team, milestones, tasks and the project's thread (or a record's: ``?record=``)."""
    return _page(request, _project(request, pk))


def _written(
    request: HttpRequest, project: Project, name: str, form: Any, write: Any, done: str
) -> HttpResponse:
    """Run ``write(cleaned_data)``; back to the workspace, or the page again with why (400)."""
    if form.is_valid():
        try:
            write(form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, done)
            url = reverse("projects:workspace", args=[project.pk])
            key = request.POST.get("record", "")
            return redirect(f"{url}?record={key}" if key else url)
    return _page(request, project, 400, **{name: form})


@login_required
@require_POST
def post_message(request: HttpRequest, pk: int) -> HttpResponse:
    project = _project(request, pk)
    record = _thread_of(request, project, request.POST.get("record", ""))
    form = MessageForm(request.POST)
    return _written(
        request,
        project,
        "message_form",
        form,
        lambda data: services.post_message(
            project, actor=request.user, body=data["body"], record=record
        ),
        "Message posted.",
    )


@login_required
@require_POST
def add_member(request: HttpRequest, pk: int) -> HttpResponse:
    project = _project(request, pk)
    form = MemberForm(request.POST, project=project)
    return _written(
        request,
        project,
        "member_form",
        form,
        lambda data: services.add_member(project, actor=request.user, **data),
        "Added to the team.",
    )


@login_required
@require_POST
def add_milestone(request: HttpRequest, pk: int) -> HttpResponse:
    project = _project(request, pk)
    form = MilestoneForm(request.POST)
    return _written(
        request,
        project,
        "milestone_form",
        form,
        lambda data: services.add_milestone(project, actor=request.user, **data),
        "Milestone added.",
    )


@login_required
@require_POST
def update_milestone(request: HttpRequest, pk: int) -> HttpResponse:
    milestone = get_visible_or_404(Milestone, request.user, pk=pk)
    project = _project(request, milestone.project_id)
    form = MilestoneUpdateForm(request.POST)

    def write(data: dict[str, Any]) -> None:
        changes = dict(data)
        services.update_milestone(
            milestone, actor=request.user, reason=changes.pop("reason"), **changes
        )

    return _written(request, project, "milestone_update_form", form, write, "Milestone saved.")


@login_required
@require_POST
def add_task(request: HttpRequest, pk: int) -> HttpResponse:
    project = _project(request, pk)
    form = TaskForm(request.POST, project=project)
    return _written(
        request,
        project,
        "task_form",
        form,
        lambda data: services.add_task(project, actor=request.user, **data),
        "Task assigned.",
    )


@login_required
@require_POST
def complete_task(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_visible_or_404(Task, request.user, pk=pk)
    services.complete_task(task, actor=request.user)
    messages.success(request, f"Done: {task.title}.")
    return redirect("projects:workspace", pk=task.project_id)
