"""What a person is told: an inbox entry per notice, and how each person wants each kind.

Notices are not GxP records (the record they point to carries its own audit trail), so they
are written directly, never through the audited services. Each belongs to its recipient's
organisation; the inbox narrows further to the recipient.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from opencdmo.core.tenancy import TenantManager


class Channel(models.TextChoices):
    """How a person hears of one kind of event."""

    EMAIL = "email", "Inbox and e-mail"
    IN_APP = "in_app", "Inbox only"
    OFF = "off", "Off"


class Notification(models.Model):
    """One notice in one person's inbox."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    event = models.CharField(max_length=64, help_text="The kind, e.g. deviation.classified")
    title = models.CharField(max_length=300)
    link = models.CharField(max_length=500, help_text="A path on this site")
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager(owner="user__organisation")

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return self.title


class Preference(models.Model):
    """One person's channel for one kind of event; without a row the default applies."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    event = models.CharField(max_length=64)
    channel = models.CharField(max_length=8, choices=Channel.choices)

    objects = TenantManager(owner="user__organisation")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "event"], name="one_preference_per_event")
        ]

    def __str__(self) -> str:
        return f"{self.event}: {self.channel}"
