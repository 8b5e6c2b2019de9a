"""Writing to a project's workspace: team, milestones, tasks and messages, each audited.

A message may mention members as ``@username``; each mentioned person who belongs to one of
the project's two organisations is told. A message in a record's thread is tied to a record
the two parties both read (``thread_record``), so its thread shows only to whoever reads it.
"""

from __future__ import annotations

import re
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from opencdmo.accounts.models import User
from opencdmo.core import services
from opencdmo.core.tenancy import get_visible_or_404, tenancy_of
from opencdmo.notifications import services as notifications
from opencdmo.projects.models import Project
from opencdmo.projects.workspace import Message, Milestone, Task, TeamMember

MENTION = re.compile(r"(?<![\w@])@([\w.+-]+)")
MENTIONED = "message.mentioned"

MESSAGE = services.Writable(Message, fields=("body", "record_type", "record_id"), noun="message")


def _parties(project: Project) -> set[int]:
    return {project.cdmo_id, project.sponsor_id}


def _member_rules(field: str) -> Any:
    def rules(record: Any) -> list[tuple[str, str]]:
        if not getattr(record, f"{field}_id", None):
            return []
        with scopes_disabled():
            user, project = getattr(record, field), record.project
        if user.organisation_id not in _parties(project):
            return [(field, f"{user} belongs to neither party of {project}.")]
        return []

    return rules


TEAM = services.Writable(
    TeamMember, fields=("user", "role"), noun="team_member", rules=_member_rules("user")
)
TASK = services.Writable(
    Task, fields=("title", "owner", "due_date", "done"), noun="task", rules=_member_rules("owner")
)


def _milestone_rules(milestone: Milestone) -> list[tuple[str, str]]:
    if milestone.state == Milestone.State.DONE and milestone.actual_date is None:
        return [("actual_date", "Give the date a milestone was reached when it is done.")]
    return []


MILESTONE = services.Writable(
    Milestone,
    fields=("name", "kind", "planned_date", "actual_date", "state"),
    rules=_milestone_rules,
)


def add_member(project: Project, *, actor: User | None, user: User, role: str) -> TeamMember:
    """Put ``user`` (of either party) on the project's team in ``role``."""
    with scopes_disabled():
        taken = TeamMember.objects.filter(project=project, user=user, role=role).exists()
    if taken:
        raise ValidationError({"user": f"{user} is on the team as {role} already."})
    return services.create(
        TEAM,
        actor=actor,
        default_reason="Added to the project team",
        parent={"project": project},
        fields={"user": user, "role": role},
    )


def remove_member(member: TeamMember, *, actor: User | None, reason: str) -> None:
    services.delete(TEAM, member, actor=actor, reason=reason)


def add_milestone(project: Project, *, actor: User | None, **fields: Any) -> Milestone:
    return services.create(
        MILESTONE,
        actor=actor,
        default_reason="Milestone planned",
        parent={"project": project},
        fields=fields,
    )


def update_milestone(
    milestone: Milestone, *, actor: User | None, reason: str, **changes: Any
) -> Milestone:
    """Move a milestone's dates or state; the reason goes on the audit trail."""
    return services.update(MILESTONE, milestone, actor=actor, reason=reason, changes=changes)


def add_task(project: Project, *, actor: User | None, **fields: Any) -> Task:
    return services.create(
        TASK,
        actor=actor,
        default_reason="Task assigned",
        parent={"project": project, "created_by": actor},
        fields=fields,
    )


def complete_task(task: Task, *, actor: User | None, reason: str = "") -> Task:
    return services.update(
        TASK, task, actor=actor, reason=reason or "Task done", changes={"done": True}
    )


def thread_record(user: User, record_type: str, record_id: str) -> tuple[Project, models.Model]:
    """The project and the record of a thread, as ``user`` reads them (404 otherwise).

    Only records the two parties of one project both read carry a thread, so that no
    message about a record is shown to a party who cannot read the record itself.
    """
    try:
        model = apps.get_model(record_type)
    except (LookupError, ValueError):
        raise Http404("No such record.") from None
    try:
        tenancy = tenancy_of(model)
    except LookupError:
        raise Http404("No such record.") from None
    if not str(record_id).isdigit():
        raise Http404("No such record.")
    record = get_visible_or_404(model, user, pk=int(record_id))
    project = record if isinstance(record, Project) else _project_of(record)
    readers = {tenancy.owner_id(record), *tenancy.shared_ids(record)}
    if project is None or tenancy.public or readers != _parties(project):
        raise Http404("No thread for this record.")
    return project, record


def _project_of(record: models.Model) -> Project | None:
    for path in ("project", "document__project", "version__document__project"):
        node: Any = record
        for step in path.split("__"):
            node = getattr(node, step, None)
            if node is None:
                break
        if isinstance(node, Project):
            return node
    return None


def thread(project: Project, record: models.Model | None = None) -> models.QuerySet[Message]:
    """The messages of the project's own thread, or of ``record``'s."""
    with scopes_disabled():
        messages = Message.objects.filter(project=project).select_related("author")
    if record is None or isinstance(record, Project):
        return messages.filter(record_type="")
    return messages.filter(record_type=record._meta.label_lower, record_id=str(record.pk))


def mentioned(project: Project, body: str) -> list[User]:
    """The members of either party named as ``@username`` in ``body``, in order."""
    names = list(dict.fromkeys(MENTION.findall(body)))
    if not names:
        return []
    with scopes_disabled():
        found = {
            u.username: u
            for u in User.objects.filter(
                username__in=names, organisation_id__in=_parties(project), is_active=True
            )
        }
    return [found[name] for name in names if name in found]


def post_message(
    project: Project, *, actor: User, body: str, record: models.Model | None = None
) -> Message:
    """Post to the project's thread (or ``record``'s) and tell whoever it mentions."""
    text = body.strip()
    if not text:
        raise ValidationError({"body": "Write a message first."})
    kind, key = "", ""
    if record is not None and not isinstance(record, Project):
        kind, key = record._meta.label_lower, str(record.pk)
    people = mentioned(project, text)
    message = services.create(
        MESSAGE,
        actor=actor,
        default_reason="Message posted",
        parent={
            "project": project,
            "author": actor,
            "mentions": [u.username for u in people],
        },
        fields={"body": text, "record_type": kind, "record_id": key},
    )
    link = reverse("projects:workspace", args=[project.pk])
    if kind:
        link += f"?record={kind}:{key}"
    notifications.notify(
        [u for u in people if u.pk != actor.pk],
        MENTIONED,
        f"{actor.get_full_name() or actor.username} mentioned you in {project}",
        link,
        text[:1000],
    )
    return message


def overdue_tasks(user: User) -> list[notifications.Overdue]:
    """The person's open tasks past their due date, for the daily digest."""
    today = timezone.localdate()
    with scopes_disabled():
        tasks = Task.objects.filter(owner=user, done=False, due_date__lt=today).order_by("due_date")
        return [
            notifications.Overdue(
                f"{task.title} ({task.project})",
                task.due_date,
                reverse("projects:workspace", args=[task.project_id]),
            )
            for task in tasks
        ]


notifications.register_overdue(overdue_tasks)
