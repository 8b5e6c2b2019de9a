"""Audit entries and the head of each tenant's hash chain.

An entry about a record two organisations share lies in the chain of the organisation that
acted and names the other one in ``shared_with``, so both read it on their audit pages.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models

from opencdmo.core.tenancy import TenantManager


class AppendOnlyError(Exception):
    """Audit entries are never changed or removed."""


class AuditEntry(models.Model):
    """One recorded event. Its ``hash`` covers its content and the previous entry's hash."""

    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Tenant whose chain holds this entry; empty for platform events",
    )
    shared_with = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The other organisation of a shared record, which reads this entry too",
    )
    chain = models.CharField(max_length=32, help_text="'org:<id>' or 'platform'")
    seq = models.PositiveBigIntegerField(help_text="Position in the chain, from 1")
    at = models.DateTimeField(help_text="UTC time of the event")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_name = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=100, help_text="Dotted name, e.g. opencdmo.suite.changed")
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    ip = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    # A caller's scope holds its own chain and the entries of records it shares with another.
    objects = TenantManager(owner="organisation", shared_with=("shared_with",))

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_unique_seq"),
        ]
        indexes = [models.Index(fields=["organisation", "action", "at"])]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("Audit entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Audit entries cannot be deleted.")

    def changes(self) -> list[tuple[str, Any, Any]]:
        """``(field, old, new)`` for every field in ``before`` or ``after``, for display."""
        before, after = self.before or {}, self.after or {}
        return [(key, before.get(key), after.get(key)) for key in sorted(set(before) | set(after))]


class ChainHead(models.Model):
    """The last entry of one tenant's chain; locking it serialises writers of that chain."""

    chain = models.CharField(max_length=32, unique=True)
    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"{self.chain} at {self.last_seq}"
