"""Batches, their offline results, their process data files and each site's plant tags.

A batch is the CDMO's record of one lot of a project's product, shared with the project's
sponsor, who reads it; so are its offline results and its process data. A site's tag
mapping (plant historian tag → variable) stays with the CDMO.
"""

from __future__ import annotations

import math

from django.db import models

from opencdmo.accounts.roles import EDIT_BATCHES
from opencdmo.core.tenancy import TenantManager


class Batch(models.Model):
    """One lot of a project's product, made at a site in a suite's bioreactor."""

    class State(models.TextChoices):
        PLANNED = "planned", "Planned"
        RUNNING = "running", "Running"
        COMPLETE = "complete", "Complete"
        UNDER_REVIEW = "under_review", "Under review"
        DISPOSITIONED = "dispositioned", "Dispositioned"

    cdmo = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+", editable=False
    )
    project = models.ForeignKey(
        "projects.Project", on_delete=models.PROTECT, related_name="batches"
    )
    lot = models.CharField(max_length=60, help_text="Unique among the CDMO's batches")
    site = models.ForeignKey("network.Site", on_delete=models.PROTECT, related_name="+")
    suite = models.ForeignKey(
        "network.Suite", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    equipment = models.ForeignKey(
        "network.Equipment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="bioreactor",
    )
    planned_start = models.DateTimeField(null=True, blank=True)
    planned_end = models.DateTimeField(null=True, blank=True)
    planned_from = models.CharField(
        max_length=40, blank=True, help_text="'plan v3' when the dates come from a site plan"
    )
    actual_start = models.DateTimeField(null=True, blank=True)
    actual_end = models.DateTimeField(null=True, blank=True)
    data_time_zero = models.DateTimeField(
        null=True, blank=True, help_text="The instant of hour 0 of the batch's process data"
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.PLANNED)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager(owner="cdmo", shared_with=("project__sponsor",), change=EDIT_BATCHES)

    class Meta:
        ordering = ["-planned_start", "-pk"]
        verbose_name_plural = "batches"
        constraints = [
            models.UniqueConstraint(
                fields=["cdmo", "lot"],
                name="unique_batch_lot_per_cdmo",
                violation_error_message="This lot already exists among the CDMO's batches.",
            )
        ]

    def __str__(self) -> str:
        return self.lot


class OfflineResult(models.Model):
    """One offline assay of a batch (titer, aggregate %, HCP …) against its specification."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="offline_results")
    attribute = models.CharField(max_length=80)
    value = models.FloatField()
    unit = models.CharField(max_length=30, blank=True)
    spec_low = models.FloatField("specification low", null=True, blank=True)
    spec_high = models.FloatField("specification high", null=True, blank=True)
    sampled_at = models.DateTimeField(null=True, blank=True)
    method = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager(
        owner="batch__cdmo", shared_with=("batch__project__sponsor",), change=EDIT_BATCHES
    )

    class Meta:
        ordering = ["batch", "attribute", "sampled_at", "pk"]

    def __str__(self) -> str:
        return f"{self.attribute} of {self.batch}: {self.value:g} {self.unit}".strip()

    @property
    def in_spec(self) -> bool | None:
        """Whether the value lies within the limits given; ``None`` without any limit."""
        if self.spec_low is None and self.spec_high is None:
            return None
        if not math.isfinite(self.value):
            return False
        low_ok = self.spec_low is None or self.value >= self.spec_low
        high_ok = self.spec_high is None or self.value <= self.spec_high
        return low_ok and high_ok

    @property
    def specification(self) -> str:
        """``"≥ 2"``, ``"≤ 5"``, ``"2 – 5"`` or an empty string."""
        if self.spec_low is not None and self.spec_high is not None:
            return f"{self.spec_low:g} – {self.spec_high:g}"
        if self.spec_low is not None:
            return f"≥ {self.spec_low:g}"
        if self.spec_high is not None:
            return f"≤ {self.spec_high:g}"
        return ""


class ProcessDataFile(models.Model):
    """One version of a batch's process data: a Parquet file in the process-data store.

    Each ingestion that adds values registers a new version. Its file holds the values that
    versions ``first_version`` … ``version`` added: usually only its own (a segment), or, when
    it takes in the newest earlier files to keep their number small, theirs too (see
    ``services.MERGE_FANOUT``). The batch's series as of a version is the union of the files
    of the versions in its ``parts``; ``rows``, ``variables``, ``counts``, ``start_h`` and
    ``end_h`` describe that series, ``added`` and ``ranges`` this version's own values.
    Files written before segments hold the whole series (``first_version`` 1). No file is
    ever rewritten.
    """

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="data_files")
    version = models.PositiveIntegerField()
    path = models.CharField(max_length=400, help_text="Key under the process-data store's root")
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField(help_text="Bytes")
    rows = models.PositiveIntegerField(help_text="Values in the series as of this version")
    variables = models.JSONField(help_text="Variable → unit")
    counts = models.JSONField(default=dict, help_text="Variable → number of values")
    start_h = models.FloatField(null=True, blank=True)
    end_h = models.FloatField(null=True, blank=True)
    added = models.PositiveIntegerField(help_text="Values this version added")
    first_version = models.PositiveIntegerField(
        help_text="The file holds the values versions first_version … version added"
    )
    parts = models.JSONField(
        default=list,
        help_text="Versions whose files together hold the series as of this version, in order",
    )
    ranges = models.JSONField(
        default=dict, help_text="Variable → [first, last] time in this version's file, h"
    )
    source = models.CharField(max_length=255, help_text="The ingested file's name")
    source_sha256 = models.CharField(
        max_length=64, blank=True, help_text="Empty for values not read from a file"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager(
        owner="batch__cdmo", shared_with=("batch__project__sponsor",), change=EDIT_BATCHES
    )

    class Meta:
        ordering = ["batch", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "version"], name="unique_data_version")
        ]

    def __str__(self) -> str:
        return f"{self.batch} process data v{self.version}"


class TagMapping(models.Model):
    """A plant tag of a site and the variable (and the tag's unit) its values land as."""

    site = models.ForeignKey("network.Site", on_delete=models.PROTECT, related_name="+")
    tag = models.CharField(max_length=120)
    variable = models.CharField(max_length=80)
    unit = models.CharField(max_length=30, blank=True, help_text="The unit the tag reports in")

    objects = TenantManager(owner="site__owner", change=EDIT_BATCHES)

    class Meta:
        ordering = ["site", "tag"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "tag"],
                name="unique_tag_per_site",
                violation_error_message="This tag is already mapped at the site.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.tag} → {self.variable}"


class OpcConnection(models.Model):
    """An OPC UA server of a site whose variables the collector stores as process data.

    ``nodes`` maps each node id to where its values land: a lot, or (no lot) the batch
    running in the connection's suite when the value arrives, the variable and its unit.
    The status fields are written by the collector, not by people: they describe the link,
    they are not part of any batch record.
    """

    class Security(models.TextChoices):
        NONE = "None", "None"
        BASIC256SHA256 = "Basic256Sha256", "Basic256Sha256"

    class Mode(models.TextChoices):
        NONE = "None", "None"
        SIGN = "Sign", "Sign"
        SIGN_AND_ENCRYPT = "SignAndEncrypt", "Sign and encrypt"

    site = models.ForeignKey("network.Site", on_delete=models.PROTECT, related_name="+")
    suite = models.ForeignKey(
        "network.Suite", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    name = models.CharField(max_length=80)
    endpoint = models.CharField(max_length=255, help_text="opc.tcp://host:port/path")
    security_policy = models.CharField(
        max_length=20, choices=Security.choices, default=Security.NONE
    )
    security_mode = models.CharField(max_length=20, choices=Mode.choices, default=Mode.NONE)
    username = models.CharField(max_length=120, blank=True)
    password_encrypted = models.TextField(
        blank=True, help_text="The password, encrypted with a key derived from SECRET_KEY"
    )
    password_env = models.CharField(
        max_length=120,
        blank=True,
        help_text="Name of an environment variable of the collector that holds the password",
    )
    certificate_path = models.CharField(max_length=400, blank=True)
    private_key_path = models.CharField(max_length=400, blank=True)
    server_certificate_path = models.CharField(max_length=400, blank=True)
    nodes = models.JSONField(
        default=list, help_text='[{"node_id": …, "lot": … or "", "variable": …, "unit": …}]'
    )
    sampling_interval_ms = models.PositiveIntegerField(default=1000)
    flush_interval_s = models.FloatField(
        default=1.0, help_text="How often the collector writes buffered values to the store"
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    connected = models.BooleanField(default=False, editable=False)
    status_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_value_at = models.DateTimeField(null=True, blank=True, editable=False)
    lag_s = models.FloatField(null=True, blank=True, editable=False)
    values_per_s = models.FloatField(null=True, blank=True, editable=False)
    values_stored = models.PositiveBigIntegerField(default=0, editable=False)
    last_error = models.TextField(blank=True, editable=False)

    objects = TenantManager(owner="site__owner", change=EDIT_BATCHES)

    class Meta:
        ordering = ["site", "name"]
        verbose_name = "OPC UA connection"
        constraints = [
            models.UniqueConstraint(
                fields=["site", "name"],
                name="unique_opc_connection_name_per_site",
                violation_error_message="The site already has a connection of this name.",
            )
        ]

    def __str__(self) -> str:
        return self.name
