"""Monitoring models of a product at a site, the verdicts and alarms they give, and what a
project's sponsor may see.

A model is the CDMO's own (its process knowledge); the verdicts and alarms of a project's
batches are shared with the project's sponsor, who reads them. Whether the sponsor also reads
the raw process data behind them is the CDMO's choice per project (``ProjectDataSharing``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from opencdmo.accounts.roles import BUILD_MODELS
from opencdmo.core.tenancy import TenantManager


class MonitoringModel(models.Model):
    """One version of a batch-wise MPCA (and MPLS of one quality attribute) of a product at a
    site, fitted on reference batches in the background and approved by QA's signature."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Fitting"
        FITTED = "fitted", "Fitted"
        FAILED = "failed", "Failed"

    site = models.ForeignKey("network.Site", on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey("projects.Product", on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=120)
    quality_attribute = models.CharField(
        max_length=80, blank=True, help_text="Offline result predicted by an MPLS (e.g. Titer)"
    )
    n_components = models.PositiveSmallIntegerField(default=2)
    confidence = models.FloatField(default=0.99)
    run_length = models.PositiveSmallIntegerField(
        default=3, help_text="Consecutive samples above a limit that raise an alarm"
    )
    reference_batches = models.ManyToManyField("manufacturing.Batch", related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    progress = models.FloatField(default=0.0)
    progress_message = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    file_key = models.CharField(max_length=300, blank=True, help_text="Model file in the store")
    file_sha256 = models.CharField(max_length=64, blank=True)
    arrays_sha256 = models.CharField(max_length=64, blank=True)
    variables = models.JSONField(default=list, blank=True)
    summary = models.JSONField(
        default=dict, blank=True, help_text="R², Q², limits, scores and loadings"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager(owner="site__owner", change=BUILD_MODELS)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "product", "version"], name="unique_model_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def busy(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def approved(self) -> bool:
        return self.approved_at is not None


class Verdict(models.Model):
    """A finished batch judged by an approved model: T² and SPE against their limits and the
    variables that contributed most."""

    class Status(models.TextChoices):
        NORMAL = "normal", "Normal"
        ALARM = "alarm", "Alarm"

    batch = models.ForeignKey("manufacturing.Batch", on_delete=models.CASCADE, related_name="+")
    model = models.ForeignKey(MonitoringModel, on_delete=models.PROTECT, related_name="verdicts")
    status = models.CharField(max_length=8, choices=Status.choices)
    t2 = models.FloatField()
    t2_limit = models.FloatField()
    spe = models.FloatField()
    spe_limit = models.FloatField()
    alarmed_variables = models.JSONField(default=list, blank=True)
    contributions = models.JSONField(
        default=list,
        blank=True,
        help_text="[variable, SPE contribution, T² contribution], largest SPE first",
    )
    first_alarm_h = models.FloatField(null=True, blank=True)
    model_label = models.CharField(max_length=200, help_text="The model's name and version")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager(
        owner="batch__cdmo", shared_with=("batch__project__sponsor",), change=BUILD_MODELS
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "model"], name="unique_verdict_per_model")
        ]

    def __str__(self) -> str:
        return f"{self.get_status_display()} verdict of {self.batch} by {self.model}"


class Alarm(models.Model):
    """A statistic of a batch above its limit for ``run_length`` samples in a row."""

    class Statistic(models.TextChoices):
        T2 = "t2", "Hotelling's T²"
        SPE = "spe", "SPE"

    batch = models.ForeignKey("manufacturing.Batch", on_delete=models.CASCADE, related_name="+")
    model = models.ForeignKey(MonitoringModel, on_delete=models.PROTECT, related_name="alarms")
    sample = models.PositiveIntegerField(help_text="Aligned sample the run of alarms began at")
    time_h = models.FloatField(help_text="Hours from the batch's hour 0")
    at = models.DateTimeField(null=True, blank=True, help_text="UTC, when the batch has hour 0")
    statistic = models.CharField(max_length=4, choices=Statistic.choices)
    value = models.FloatField()
    limit = models.FloatField()
    contributions = models.JSONField(
        default=list, blank=True, help_text="[variable, contribution], largest"
    )
    model_label = models.CharField(max_length=200, help_text="The model's name and version")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager(
        owner="batch__cdmo", shared_with=("batch__project__sponsor",), change=BUILD_MODELS
    )

    class Meta:
        ordering = ["batch", "time_h", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "model", "statistic", "sample"], name="unique_alarm_run"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_statistic_display()} alarm of {self.batch} at {self.time_h:.1f} h"


class ProjectDataSharing(models.Model):
    """Whether a project's sponsor reads the raw process data behind the verdicts."""

    project = models.OneToOneField(
        "projects.Project", on_delete=models.CASCADE, related_name="data_sharing"
    )
    share_process_data = models.BooleanField(
        "The sponsor reads the process data and live trajectories", default=False
    )

    objects = TenantManager(
        owner="project__cdmo", shared_with=("project__sponsor",), change=BUILD_MODELS
    )

    def __str__(self) -> str:
        shared = "shared" if self.share_process_data else "verdicts only"
        return f"Process data of {self.project}: {shared}"
