"""Sponsors' products and capacity requests, the sites' options, and awarded projects.

A request belongs to its sponsor. Each capable site's answer (an ``Option``) belongs to the
site's CDMO and is shared with the sponsor, who reads its dates and price; the what-if plan
behind it (``OptionPlan``) holds other sponsors' batches and stays with the CDMO. A project,
once awarded, is the CDMO's record shared with its sponsor.
"""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models

from opencdmo.accounts.roles import PROPOSE, REQUEST_CAPACITY
from opencdmo.core.tenancy import TenantManager
from opencdmo.network.choices import Modality


class Phase(models.TextChoices):
    PRECLINICAL = "preclinical", "Preclinical"
    PHASE_1 = "phase_1", "Phase I"
    PHASE_2 = "phase_2", "Phase II"
    PHASE_3 = "phase_3", "Phase III"
    COMMERCIAL = "commercial", "Commercial"


class Product(models.Model):
    """A sponsor's molecule."""

    owner = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="products",
        limit_choices_to={"kind": "sponsor"},
    )
    name = models.CharField(max_length=120)
    modality = models.CharField(max_length=32, choices=Modality.choices)
    phase = models.CharField(max_length=16, choices=Phase.choices)

    objects = TenantManager(owner="owner", change=REQUEST_CAPACITY)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="unique_product_name")
        ]

    def __str__(self) -> str:
        return self.name


class CapacityRequest(models.Model):
    """A sponsor's need for manufacturing capacity, answered by every capable site."""

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        OPTIONS_READY = "options_ready", "Options ready"
        AWARDED = "awarded", "Awarded"
        WITHDRAWN = "withdrawn", "Withdrawn"
        EXPIRED = "expired", "Expired"

    sponsor = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="capacity_requests"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="requests")
    scale_l = models.FloatField(
        "Scale (L)", validators=[MinValueValidator(1)], help_text="Production bioreactor volume"
    )
    batches = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    earliest_start = models.DateField()
    need_by = models.DateField(help_text="The last batch is finished by this date")
    regions = models.JSONField(default=list, blank=True)
    countries = models.JSONField(default=list, blank=True)
    approvals = models.JSONField(default=list, blank=True)
    recipients = models.ManyToManyField(
        "accounts.Organisation",
        blank=True,
        related_name="+",
        help_text="CDMOs asked; none: every capable CDMO",
    )
    notes = models.TextField(blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.DRAFT)
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    screening = models.JSONField(
        default=dict, blank=True, help_text="Sites left out before any solve, counted by reason"
    )

    objects = TenantManager(owner="sponsor", change=REQUEST_CAPACITY)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Request #{self.pk}: {self.batches} × {self.product} at {self.scale_l:,.0f} L"


class Option(models.Model):
    """One site's capable-to-promise answer to a request, and the proposal made from it."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Solving"
        ANSWERED = "answered", "Answered"
        NOT_CAPABLE = "not_capable", "Not capable"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    request = models.ForeignKey(CapacityRequest, on_delete=models.CASCADE, related_name="options")
    site = models.ForeignKey("network.Site", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    rank = models.PositiveSmallIntegerField(null=True, blank=True)
    feasible = models.BooleanField(null=True)
    on_time = models.BooleanField(null=True)
    proven_optimal = models.BooleanField(default=False)
    reasons = models.JSONField(default=list, blank=True)
    lateness_h = models.PositiveIntegerField(default=0)
    first_start = models.DateTimeField(null=True, blank=True)
    last_end = models.DateTimeField(null=True, blank=True)
    batches = models.JSONField(default=list, blank=True)
    extra_changeovers = models.IntegerField(default=0)
    utilisation_before = models.FloatField(null=True, blank=True)
    utilisation_after = models.FloatField(null=True, blank=True)
    moved = models.PositiveIntegerField(default=0)
    price_usd = models.PositiveBigIntegerField("Indicative price (USD)", null=True, blank=True)
    solve_s = models.FloatField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    conditions = models.TextField(blank=True)
    valid_until = models.DateField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager(owner="site__owner", shared_with=("request__sponsor",), change=PROPOSE)

    class Meta:
        ordering = ["request", "rank", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["request", "site"], name="one_option_per_site")
        ]

    def __str__(self) -> str:
        return f"Option #{self.pk} of request #{self.request_id}"

    @property
    def finished(self) -> bool:
        return self.status not in {self.Status.QUEUED, self.Status.RUNNING}

    @property
    def lateness(self) -> str:
        """``"3 d 4 h late"``, or an empty string when on time."""
        if not self.lateness_h:
            return ""
        days, hours = divmod(self.lateness_h, 24)
        parts = [f"{days} d" if days else "", f"{hours} h" if hours else ""]
        return " ".join(p for p in parts if p) + " late"


class OptionPlan(models.Model):
    """The what-if plan behind an option: the site's plan in force with the request inside.

    It names the CDMO's other customers' batches, so it is never shared with the sponsor.
    """

    option = models.OneToOneField(Option, on_delete=models.CASCADE, related_name="plan")
    time_zero = models.DateTimeField()
    instance = models.JSONField()
    result = models.JSONField()
    based_on_version = models.PositiveIntegerField()

    objects = TenantManager(owner="option__site__owner", change=PROPOSE)

    def __str__(self) -> str:
        return f"Plan behind option #{self.option_id}"


class Project(models.Model):
    """A sponsor's engagement of a CDMO site for one product."""

    class Scope(models.TextChoices):
        PROCESS_DEVELOPMENT = "process_development", "Process development"
        TECH_TRANSFER = "tech_transfer", "Technology transfer"
        CLINICAL = "clinical", "Clinical supply"
        COMMERCIAL = "commercial", "Commercial supply"

    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    name = models.CharField(max_length=160)
    sponsor = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="sponsored_projects"
    )
    cdmo = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="executed_projects"
    )
    site = models.ForeignKey("network.Site", on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    request = models.OneToOneField(
        CapacityRequest, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    option = models.OneToOneField(
        Option, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    scope = models.CharField(max_length=24, choices=Scope.choices)
    phase = models.CharField(max_length=16, choices=Phase.choices)
    state = models.CharField(max_length=12, choices=State.choices, default=State.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager(owner="cdmo", shared_with=("sponsor",), change=PROPOSE)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.name


from opencdmo.projects.documents import Document, DocumentRoute, DocumentVersion  # noqa: E402
from opencdmo.projects.workspace import Message, Milestone, Task, TeamMember  # noqa: E402

__all__ = [
    "CapacityRequest",
    "Document",
    "DocumentRoute",
    "DocumentVersion",
    "Message",
    "Milestone",
    "Option",
    "OptionPlan",
    "Phase",
    "Product",
    "Project",
    "Task",
    "TeamMember",
]
