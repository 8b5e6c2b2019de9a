"""The shape coming apps take: a record the executing CDMO owns and the sponsor reads.

``SharedRecord`` stands for a batch or a deviation of a project; ``OwnerNote`` for the CDMO's
own working papers, which a shared record may point back to without showing them.
"""

from __future__ import annotations

from django.db import models

from opencdmo.accounts.roles import EDIT_NETWORK
from opencdmo.core.tenancy import TenantManager


class OwnerNote(models.Model):
    """Private to the CDMO that wrote it."""

    cdmo = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="owner_notes"
    )
    text = models.CharField(max_length=200)

    objects = TenantManager(owner="cdmo", change=EDIT_NETWORK)

    def __str__(self) -> str:
        return self.text


class SharedRecord(models.Model):
    """Owned by the executing CDMO, shared with (read by) the project's sponsor."""

    cdmo = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="executed_records"
    )
    sponsor = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="sponsored_records"
    )
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=20, default="open")
    note = models.ForeignKey(
        OwnerNote, on_delete=models.PROTECT, null=True, blank=True, related_name="records"
    )

    objects = TenantManager(owner="cdmo", shared_with=("sponsor",), change=EDIT_NETWORK)

    def __str__(self) -> str:
        return self.title
