"""Each site's published plan, version by version, and the batches in it.

A plan is the pair of documents anyone can re-check: an ``opencdmo-schedule/1`` instance and
its ``opencdmo-result/1`` result, hours counted from ``time_zero``. ``PlannedBatch`` spreads
the result into rows, so that a sponsor reads the dates of its own project's batches (and
nothing of the rest of the plan) and the project page says what moved between versions.
"""

from __future__ import annotations

from django.db import models

from opencdmo.accounts.roles import PLAN_SITES
from opencdmo.core.tenancy import TenantManager


class SitePlan(models.Model):
    """One published version of a site's schedule; the highest version is in force."""

    site = models.ForeignKey("network.Site", on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField()
    time_zero = models.DateTimeField(help_text="Hour 0 of the plan's documents (UTC)")
    instance = models.JSONField()
    result = models.JSONField()
    reason = models.TextField()
    causes = models.JSONField(
        default=list,
        blank=True,
        help_text='What kind of change made this version ("equipment breakdown", "new '
        'order"): words a sponsor may read, unlike the reason, which may name other customers',
    )
    published_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager(owner="site__owner", change=PLAN_SITES)

    class Meta:
        ordering = ["site", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["site", "version"], name="unique_plan_version")
        ]

    def __str__(self) -> str:
        return f"{self.site} plan v{self.version}"


class PlannedBatch(models.Model):
    """One stage of one lot in a published plan (a production run, a purification, a fill)."""

    plan = models.ForeignKey(SitePlan, on_delete=models.CASCADE, related_name="batches")
    batch_id = models.CharField(max_length=80, help_text="The batch's id in the plan documents")
    lot = models.CharField(max_length=60)
    stage = models.CharField(max_length=40)
    product = models.CharField(max_length=120)
    suite = models.CharField(max_length=160)
    start = models.DateTimeField()
    end = models.DateTimeField()
    project = models.ForeignKey(
        "projects.Project",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="planned_batches",
    )

    objects = TenantManager(
        owner="plan__site__owner", shared_with=("project__sponsor",), change=PLAN_SITES
    )

    class Meta:
        ordering = ["plan", "start", "batch_id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "batch_id"], name="unique_planned_batch")
        ]
        indexes = [models.Index(fields=["project", "plan"])]

    def __str__(self) -> str:
        return f"{self.lot} {self.stage}"


class Scenario(models.Model):
    """A planner's private copy of a site's plan: edited, solved, compared, maybe published.

    ``instance`` is the edited ``opencdmo-schedule/1`` document (hours from ``time_zero``, the
    base plan's); ``result`` the last solve's ``opencdmo-result/1``, checked before it was
    stored; ``figures`` what the comparison shows (lateness, changeovers, moves, utilisation).
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Edited, not solved"
        QUEUED = "queued", "Waiting for a worker"
        SOLVING = "solving", "Solving"
        SOLVED = "solved", "Solved"
        FAILED = "failed", "No schedule"
        CANCELLED = "cancelled", "Cancelled"
        PUBLISHED = "published", "Published"

    site = models.ForeignKey("network.Site", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=120)
    base_version = models.PositiveIntegerField()
    time_zero = models.DateTimeField()
    instance = models.JSONField()
    result = models.JSONField(null=True, blank=True)
    figures = models.JSONField(default=dict, blank=True)
    edits = models.JSONField(default=list, blank=True, help_text="What was changed, in words")
    edit_kinds = models.JSONField(
        default=list, blank=True, help_text="The kind of each edit: breakdown, maintenance, …"
    )

    class Goal(models.TextChoices):
        REPAIR = "repair", "Repair: add no lateness, move as little as possible"
        REOPTIMISE = "reoptimise", "Re-optimise: least lateness, then as few moves"

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    goal = models.CharField(
        max_length=12,
        choices=Goal.choices,
        default=Goal.REPAIR,
        help_text="What the solve minimises first: lateness added to the plan, or all lateness",
    )
    time_limit_s = models.PositiveIntegerField(default=20)
    message = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    published_version = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantManager(owner="site__owner", change=PLAN_SITES)

    class Meta:
        ordering = ["site", "-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.site})"

    @property
    def busy(self) -> bool:
        return self.status in {self.Status.QUEUED, self.Status.SOLVING}


class PlanSeen(models.Model):
    """The plan version a user last saw a project's batches in: what moved is told since."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField()
    seen_at = models.DateTimeField(auto_now=True)

    objects = TenantManager(owner="project__cdmo", shared_with=("project__sponsor",))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="one_plan_seen_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} saw {self.project} at plan v{self.version}"


class NetworkPlan(models.Model):
    """A CDMO's medium-term campaign plan across its sites, one solve of the campaign engine.

    ``instance`` is the ``opencdmo-campaign/1`` document built from the sites' plans in force
    (suites, qualifications, transfers, lots due per month), ``result`` its checked
    ``opencdmo-result/1``, ``lateness`` the engine's explanation of every late demand.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        SOLVING = "solving", "Solving"
        SOLVED = "solved", "Solved"
        FAILED = "failed", "No plan"

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    time_zero = models.DateTimeField(help_text="Start of period 1 (UTC, the first of a month)")
    instance = models.JSONField()
    result = models.JSONField(null=True, blank=True)
    lateness = models.JSONField(default=list, blank=True)
    months = models.JSONField(default=list, blank=True, help_text="Label of each period")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    message = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager(owner="organisation", change=PLAN_SITES)

    class Meta:
        ordering = ["organisation", "-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Network plan #{self.pk} of {self.organisation}"

    @property
    def busy(self) -> bool:
        return self.status in {self.Status.QUEUED, self.Status.SOLVING}
