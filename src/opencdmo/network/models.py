"""Sites, suites, equipment, approvals and inspections.

A site's public profile is visible to every signed-in user; its commercial details
(``SitePrivateProfile``) only to the owning CDMO. Capabilities are never stored: they are
derived from suites and equipment (see ``capabilities``).
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from opencdmo.accounts.roles import EDIT_NETWORK, IMPORT_NETWORK, MAINTAIN_NETWORK
from opencdmo.core.tenancy import TenantManager
from opencdmo.network.choices import (
    Agency,
    EquipmentKind,
    GmpGrade,
    InspectionOutcome,
    Modality,
    Region,
    SuiteKind,
    SuiteStatus,
)

PUBLIC_MASTER_DATA = {"public": True, "change": EDIT_NETWORK, "curate": MAINTAIN_NETWORK}
"""Site profiles: every signed-in user reads them, the owning CDMO changes them, and the
platform administrator curates every CDMO's (see ``opencdmo.core.tenancy``)."""


class ModalityQualification(models.Model):
    """One modality a suite is qualified to make (a row per suite and modality)."""

    suite = models.ForeignKey("Suite", on_delete=models.CASCADE, related_name="qualifications")
    modality = models.CharField(max_length=32, choices=Modality.choices)

    objects = TenantManager(owner="suite__site__owner", **PUBLIC_MASTER_DATA)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["suite", "modality"], name="unique_suite_modality")
        ]

    def __str__(self) -> str:
        return f"{self.suite} · {self.get_modality_display()}"


class Site(models.Model):
    """A CDMO's manufacturing plant."""

    owner = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="sites",
        limit_choices_to={"kind": "cdmo"},
    )
    code = models.SlugField(max_length=40, help_text="Owner's short code, unique within the owner")
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2 code")
    region = models.CharField(max_length=32, choices=Region.choices)
    city = models.CharField(max_length=120)
    latitude = models.FloatField(validators=[MinValueValidator(-90), MaxValueValidator(90)])
    longitude = models.FloatField(validators=[MinValueValidator(-180), MaxValueValidator(180)])
    description = models.TextField(blank=True)
    established_year = models.PositiveSmallIntegerField(null=True, blank=True)

    objects = TenantManager(owner="owner", **PUBLIC_MASTER_DATA)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["owner", "code"], name="unique_site_code")]

    def __str__(self) -> str:
        return self.name


class SitePrivateProfile(models.Model):
    """What only the owning CDMO sees: commercial terms and internal notes."""

    site = models.OneToOneField(Site, on_delete=models.CASCADE, related_name="private")
    indicative_batch_price_usd = models.PositiveIntegerField(null=True, blank=True)
    spare_capacity_note = models.CharField(max_length=300, blank=True)
    key_contact = models.CharField(max_length=200, blank=True)
    internal_notes = models.TextField(blank=True)

    objects = TenantManager(owner="site__owner", change=EDIT_NETWORK, curate=MAINTAIN_NETWORK)

    def __str__(self) -> str:
        return f"Private profile of {self.site}"


class Suite(models.Model):
    """A GMP area of a site."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="suites")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=32, choices=SuiteKind.choices)
    gmp_grade = models.CharField(max_length=3, choices=GmpGrade.choices)
    status = models.CharField(
        max_length=20, choices=SuiteStatus.choices, default=SuiteStatus.OPERATIONAL
    )

    objects = TenantManager(owner="site__owner", **PUBLIC_MASTER_DATA)

    class Meta:
        ordering = ["site", "name"]
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="unique_suite_name")]

    def __str__(self) -> str:
        return f"{self.site.name} / {self.name}"

    @property
    def modalities(self) -> list[str]:
        return sorted(q.modality for q in self.qualifications.all())


class Equipment(models.Model):
    """One piece of major equipment in a suite."""

    suite = models.ForeignKey(Suite, on_delete=models.CASCADE, related_name="equipment")
    tag = models.CharField(max_length=40, help_text="Equipment tag, unique within the suite")
    kind = models.CharField(max_length=32, choices=EquipmentKind.choices)
    working_volume_l = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.1)],
        help_text="Bioreactors, reactors",
    )
    throughput_units_per_h = models.PositiveIntegerField(
        null=True, blank=True, help_text="Fill lines, tablet presses"
    )
    manufacturer = models.CharField(max_length=120, blank=True)

    objects = TenantManager(owner="suite__site__owner", **PUBLIC_MASTER_DATA)

    class Meta:
        ordering = ["suite", "tag"]
        verbose_name_plural = "equipment"
        constraints = [
            models.UniqueConstraint(fields=["suite", "tag"], name="unique_equipment_tag")
        ]

    def __str__(self) -> str:
        return f"{self.tag} ({self.get_kind_display()})"


class RegulatoryApproval(models.Model):
    """An agency's approval of a site for a scope of manufacture."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="approvals")
    agency = models.CharField(max_length=8, choices=Agency.choices)
    scope = models.CharField(max_length=200)
    granted_on = models.DateField()

    objects = TenantManager(owner="site__owner", **PUBLIC_MASTER_DATA)

    class Meta:
        ordering = ["site", "agency", "granted_on"]

    def __str__(self) -> str:
        return f"{self.agency}: {self.scope}"


class Inspection(models.Model):
    """A regulatory inspection of a site and its outcome."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="inspections")
    agency = models.CharField(max_length=8, choices=Agency.choices)
    inspected_on = models.DateField()
    outcome = models.CharField(max_length=20, choices=InspectionOutcome.choices)
    observations = models.PositiveSmallIntegerField(default=0)

    objects = TenantManager(owner="site__owner", **PUBLIC_MASTER_DATA)

    class Meta:
        ordering = ["site", "-inspected_on"]

    def __str__(self) -> str:
        return f"{self.agency} {self.inspected_on:%Y-%m-%d}: {self.get_outcome_display()}"


class ImportJob(models.Model):
    """An uploaded network file, imported in the background by a task worker.

    The uploaded file is kept (with its SHA-256) beside the outcome, so what was imported
    can always be traced back to the exact bytes a user sent.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        IMPORTED = "imported", "Imported"
        VALID = "valid", "Valid (dry run)"
        REJECTED = "rejected", "Rejected"
        FAILED = "failed", "Failed"

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="import_jobs"
    )
    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    filename = models.CharField(max_length=255)
    stored_path = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)
    kind = models.CharField(max_length=16, blank=True)
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    summary = models.TextField(blank=True)
    problems = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The lease of the worker running the job: ``task_id`` is its django-tasks result,
    # ``attempts`` counts the runs started, and a ``heartbeat_at`` older than
    # ``settings.JOB_LEASE_S`` means the worker stopped (see ``network.tasks``).
    task_id = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager(owner="organisation", change=IMPORT_NETWORK)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"

    @property
    def is_pending(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)
