"""The project workspace both parties share: the team, milestones, tasks and messages.

Every record here is the executing CDMO's and is shared with the project's sponsor, and
every member of either organisation writes to it (``WORKSPACE``): the workspace is where the
two sides work together, and each write still goes through an audited service.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone

from opencdmo.accounts.roles import VIEW_NETWORK
from opencdmo.core.tenancy import TenantManager

WORKSPACE = VIEW_NETWORK
"""Writing to a workspace: every role of either party holds it (a sponsor's viewer posts too)."""

_PROJECT = {"owner": "project__cdmo", "shared_with": ("project__sponsor",)}


class TeamRole(models.TextChoices):
    PROJECT_LEAD = "project_lead", "Project lead"
    QA = "qa", "QA"
    MSAT = "msat", "MSAT"
    PLANNER = "planner", "Planner"
    SUPPLY = "supply", "Supply chain"
    REGULATORY = "regulatory", "Regulatory"
    OTHER = "other", "Other"


class TeamMember(models.Model):
    """A person of either organisation in a role on the project."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="team")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=16, choices=TeamRole.choices)
    added_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager(**_PROJECT, change=WORKSPACE, shared_change=WORKSPACE)

    class Meta:
        ordering = ["project", "role", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["project", "user", "role"], name="one_role_per_member")
        ]

    def __str__(self) -> str:
        return f"{self.user} as {self.get_role_display()} on {self.project}"


class Milestone(models.Model):
    """A step of technology transfer or manufacturing, planned and, once reached, actual."""

    class Kind(models.TextChoices):
        TECH_TRANSFER = "tech_transfer", "Technology transfer"
        MANUFACTURING = "manufacturing", "Manufacturing"

    class State(models.TextChoices):
        PLANNED = "planned", "Planned"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="milestones"
    )
    name = models.CharField(max_length=160)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    planned_date = models.DateField()
    actual_date = models.DateField(null=True, blank=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.PLANNED)

    objects = TenantManager(**_PROJECT, change=WORKSPACE, shared_change=WORKSPACE)

    class Meta:
        ordering = ["project", "planned_date", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def overdue(self) -> bool:
        """Not reached and past its planned date."""
        open_states = (self.State.PLANNED, self.State.IN_PROGRESS)
        return self.state in open_states and self.planned_date < timezone.localdate()


class Task(models.Model):
    """Something one person owes the project by a date."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(max_length=200)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    due_date = models.DateField()
    done = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager(**_PROJECT, change=WORKSPACE, shared_change=WORKSPACE)

    class Meta:
        ordering = ["done", "due_date", "pk"]

    def __str__(self) -> str:
        return self.title

    def overdue_on(self, day: dt.date) -> bool:
        return not self.done and self.due_date < day

    @property
    def overdue(self) -> bool:
        return self.overdue_on(timezone.localdate())


class Message(models.Model):
    """One message in the project's thread, or in the thread of one of its records.

    ``record_type`` (``app_label.model``) and ``record_id`` name the record; both empty is the
    project's own thread. Its readers are the project's parties, and a record's thread is
    shown only to whoever reads the record.
    """

    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="messages"
    )
    record_type = models.CharField(max_length=100, blank=True)
    record_id = models.CharField(max_length=64, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(max_length=10000)
    mentions = models.JSONField(default=list, blank=True, help_text="Usernames mentioned")
    posted_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager(**_PROJECT, change=WORKSPACE, shared_change=WORKSPACE)

    class Meta:
        ordering = ["posted_at", "pk"]
        indexes = [models.Index(fields=["project", "record_type", "record_id"])]

    def __str__(self) -> str:
        return f"Message #{self.pk} by {self.author}"
