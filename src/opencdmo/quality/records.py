"""Deviations, their CAPAs and batch dispositions: the CDMO's quality records of a project.

Each is owned by the project's CDMO and shared with its sponsor, which reads it; the sponsor's
QA writes only its own release step of a disposition. Every write goes through
``quality.deviations``, ``quality.capa`` or ``quality.disposition`` (audited, with a reason).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone

from opencdmo.accounts.roles import EDIT_BATCHES, EDIT_QUALITY
from opencdmo.core.tenancy import TenantManager
from opencdmo.quality.models import DeviationClass


class RootCause(models.TextChoices):
    EQUIPMENT = "equipment", "Equipment"
    MATERIALS = "materials", "Materials"
    METHOD = "method", "Method or procedure"
    PERSONNEL = "personnel", "Personnel"
    ENVIRONMENT = "environment", "Environment"
    DOCUMENTATION = "documentation", "Documentation"
    UNKNOWN = "unknown", "Not determined"


class Deviation(models.Model):
    """A departure from an approved instruction or specification, raised by CDMO staff."""

    class State(models.TextChoices):
        OPEN = "open", "Open"
        CLASSIFIED = "classified", "Classified"
        INVESTIGATION = "under_investigation", "Under investigation"
        CLOSED = "closed", "Closed"

    project = models.ForeignKey(
        "projects.Project", on_delete=models.PROTECT, related_name="deviations"
    )
    title = models.CharField(max_length=200)
    description = models.TextField()
    evidence = models.TextField(blank=True, help_text="What was seen, and where")
    source_type = models.CharField(
        max_length=60, blank=True, help_text="The record it was raised from (app_label.model)"
    )
    source_id = models.CharField(max_length=64, blank=True)
    batches = models.ManyToManyField(
        "manufacturing.Batch", blank=True, related_name="deviations", help_text="Batches affected"
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.OPEN)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    raised_at = models.DateTimeField(default=timezone.now)
    classification = models.CharField(max_length=10, choices=DeviationClass.choices, blank=True)
    classification_rationale = models.TextField(blank=True)
    classified_at = models.DateTimeField(null=True, blank=True)
    sponsor_notified_at = models.DateTimeField(null=True, blank=True)
    notice_due_at = models.DateTimeField(
        null=True, blank=True, help_text="Raised at plus the agreement's hours for the class"
    )
    root_cause = models.CharField(max_length=16, choices=RootCause.choices, blank=True)
    investigation = models.TextField(blank=True, help_text="What the investigation found")
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager(
        owner="project__cdmo", shared_with=("project__sponsor",), change=EDIT_BATCHES
    )

    class Meta:
        ordering = ["-raised_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        return f"DEV-{self.pk:04d}" if self.pk else "DEV-new"

    @property
    def notice_late(self) -> bool:
        """The sponsor was (or still is) not told within the agreement's hours."""
        if self.notice_due_at is None:
            return False
        told = self.sponsor_notified_at or timezone.now()
        return told > self.notice_due_at


class Capa(models.Model):
    """Corrective and preventive action against a deviation, checked for effectiveness."""

    class State(models.TextChoices):
        OPEN = "open", "Actions open"
        CHECK = "effectiveness_check", "Effectiveness check"
        CLOSED = "closed", "Closed, effective"
        INEFFECTIVE = "ineffective", "Closed, not effective"

    deviation = models.ForeignKey(Deviation, on_delete=models.PROTECT, related_name="capas")
    title = models.CharField(max_length=200)
    effectiveness_criteria = models.TextField(help_text="How its effect will be judged")
    effectiveness_due = models.DateField(help_text="When the check is due")
    effectiveness_result = models.TextField(blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager(
        owner="deviation__project__cdmo",
        shared_with=("deviation__project__sponsor",),
        change=EDIT_QUALITY,
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "CAPA"

    def __str__(self) -> str:
        return f"CAPA-{self.pk:04d} {self.title}" if self.pk else self.title


class CapaAction(models.Model):
    """One action of a CAPA, with the person who owns it and its due date."""

    capa = models.ForeignKey(Capa, on_delete=models.CASCADE, related_name="actions")
    description = models.CharField(max_length=300)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField()
    done_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager(
        owner="capa__deviation__project__cdmo",
        shared_with=("capa__deviation__project__sponsor",),
        change=EDIT_BATCHES,
    )

    class Meta:
        ordering = ["due_on", "pk"]
        verbose_name = "CAPA action"

    def __str__(self) -> str:
        return self.description

    def overdue(self, today: dt.date | None = None) -> bool:
        return self.done_at is None and self.due_on < (today or timezone.now().date())


class Disposition(models.Model):
    """A batch's disposition: the CDMO QA's release or rejection, then where the quality
    agreement asks for it the sponsor QA's release, each by e-signature."""

    class Decision(models.TextChoices):
        RELEASE = "release", "Release"
        REJECT = "reject", "Reject"

    class State(models.TextChoices):
        AWAITING_SPONSOR = "awaiting_sponsor", "Awaiting the sponsor's release"
        RELEASED = "released", "Released"
        REJECTED = "rejected", "Rejected"

    batch = models.OneToOneField(
        "manufacturing.Batch", on_delete=models.PROTECT, related_name="disposition"
    )
    decision = models.CharField(max_length=8, choices=Decision.choices)
    state = models.CharField(max_length=20, choices=State.choices)
    decided_at = models.DateTimeField()
    sponsor_decision = models.CharField(max_length=8, choices=Decision.choices, blank=True)
    sponsor_decided_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager(
        owner="batch__cdmo", shared_with=("batch__project__sponsor",), change=EDIT_QUALITY
    )

    class Meta:
        ordering = ["-decided_at", "-pk"]

    def __str__(self) -> str:
        return f"Disposition of batch {self.batch.lot}"
