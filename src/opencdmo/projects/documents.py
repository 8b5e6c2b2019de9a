"""Controlled documents of a project: versions, their review and approval, and signatures.

A ``Document`` holds the versions of one document; each ``DocumentVersion`` is one uploaded
file, kept in the file store under its SHA-256, going draft → in review → approved →
effective → superseded (or obsolete). Reviewers and approvers, of either organisation, are
named per version (``DocumentRoute``) and sign with the meanings *reviewed* and *approved*;
the signature covers the version's file hash and metadata, so a version changed after
signing shows "changed since signing" and cannot become effective.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from opencdmo.core.tenancy import TenantManager
from opencdmo.projects.workspace import WORKSPACE


class Document(models.Model):
    """One controlled document of a project, across its versions."""

    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="documents"
    )
    number = models.CharField(max_length=40, help_text="The document's number, e.g. TT-001")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager(
        owner="project__cdmo",
        shared_with=("project__sponsor",),
        change=WORKSPACE,
        shared_change=WORKSPACE,
    )

    class Meta:
        ordering = ["project", "number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="unique_document_number")
        ]

    def __str__(self) -> str:
        return self.number


class DocumentVersion(models.Model):
    """One version of a document: its file (by SHA-256), metadata and state."""

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        APPROVED = "approved", "Approved"
        EFFECTIVE = "effective", "Effective"
        SUPERSEDED = "superseded", "Superseded"
        OBSOLETE = "obsolete", "Obsolete"

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True, max_length=2000, help_text="What this version changes")
    file_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100, blank=True)
    size_bytes = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    stored_key = models.CharField(max_length=200, help_text="Key in the document file store")
    state = models.CharField(max_length=12, choices=State.choices, default=State.DRAFT)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    effective_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager(
        owner="document__project__cdmo",
        shared_with=("document__project__sponsor",),
        change=WORKSPACE,
        shared_change=WORKSPACE,
    )

    class Meta:
        ordering = ["document", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["document", "version"], name="unique_document_version")
        ]

    def __str__(self) -> str:
        return f"{self.document.number} v{self.version}: {self.title}"


class DocumentRoute(models.Model):
    """A person named to review or approve one version."""

    class Step(models.TextChoices):
        REVIEW = "review", "Review"
        APPROVE = "approve", "Approval"

    version = models.ForeignKey(DocumentVersion, on_delete=models.CASCADE, related_name="routes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    step = models.CharField(max_length=8, choices=Step.choices)

    objects = TenantManager(
        owner="version__document__project__cdmo",
        shared_with=("version__document__project__sponsor",),
        change=WORKSPACE,
        shared_change=WORKSPACE,
    )

    class Meta:
        ordering = ["version", "step", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["version", "user", "step"], name="one_route_per_step")
        ]

    def __str__(self) -> str:
        return f"{self.get_step_display()} of {self.version} by {self.user}"
