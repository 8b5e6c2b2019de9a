"""Electronic signatures (21 CFR Part 11) and the project's quality agreement.

A ``Signature`` binds a person, the meaning of their signature and the time to the content of
one record, by its SHA-256 (``opencdmo.quality.signing``). It is written once by
``services.sign`` with its audit entry and never changed or removed: the model refuses, and
so does the database (``migrations/0002``). A signature belongs to the signer's organisation
and is shared with the other party of the signed record, so both read it.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from opencdmo.accounts.roles import EDIT_QUALITY
from opencdmo.core.tenancy import TenantManager


class SignatureImmutableError(Exception):
    """Signatures are never changed or removed."""


class Meaning(models.TextChoices):
    """What a signature means (§11.50(a)(3)), shown with every signature."""

    AUTHORED = "authored", "Authored"
    REVIEWED = "reviewed", "Reviewed"
    APPROVED = "approved", "Approved"
    RELEASED = "released", "Released"
    REJECTED = "rejected", "Rejected"


class Signature(models.Model):
    """One electronic signature of one record's content, as it was when signed."""

    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signer_name = models.CharField(max_length=200, help_text="The signer's printed name then")
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    shared_with = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The other party of the signed record, which reads the signature too",
    )
    meaning = models.CharField(max_length=16, choices=Meaning.choices)
    record_type = models.CharField(max_length=100, help_text="app_label.model")
    record_id = models.CharField(max_length=64)
    record_repr = models.CharField(max_length=300)
    content = models.JSONField(help_text="The canonical content that was signed")
    content_sha256 = models.CharField(max_length=64)
    signed_at = models.DateTimeField(help_text="UTC")
    reason = models.TextField(blank=True)
    audit_entry = models.OneToOneField(
        "audit.AuditEntry", on_delete=models.PROTECT, related_name="+"
    )

    objects = TenantManager(owner="organisation", shared_with=("shared_with",))

    class Meta:
        ordering = ["signed_at", "id"]
        indexes = [models.Index(fields=["record_type", "record_id"])]

    def __str__(self) -> str:
        return f"{self.get_meaning_display()} by {self.signer_name}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise SignatureImmutableError("Signatures cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise SignatureImmutableError("Signatures cannot be deleted.")


class DeviationClass(models.TextChoices):
    MINOR = "minor", "Minor"
    MAJOR = "major", "Major"
    CRITICAL = "critical", "Critical"


_HOURS = [MinValueValidator(1), MaxValueValidator(24 * 365)]


class QualityAgreement(models.Model):
    """What the CDMO owes the sponsor on quality for one project: how soon it tells the
    sponsor of a deviation of each class, and whether the sponsor releases each batch after
    the CDMO's disposition. Written by the CDMO's QA, approved by e-signature of both."""

    project = models.OneToOneField(
        "projects.Project", on_delete=models.PROTECT, related_name="quality_agreement"
    )
    minor_notice_h = models.PositiveIntegerField(
        "Minor deviation: tell the sponsor within (h)", validators=_HOURS
    )
    major_notice_h = models.PositiveIntegerField(
        "Major deviation: tell the sponsor within (h)", validators=_HOURS
    )
    critical_notice_h = models.PositiveIntegerField(
        "Critical deviation: tell the sponsor within (h)", validators=_HOURS
    )
    sponsor_release_required = models.BooleanField(
        "The sponsor releases each batch after the CDMO's disposition", default=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager(
        owner="project__cdmo", shared_with=("project__sponsor",), change=EDIT_QUALITY
    )

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Quality agreement of {self.project}"

    def clean(self) -> None:
        """A graver deviation is never told later than a lighter one."""
        super().clean()
        minor, major, critical = self.minor_notice_h, self.major_notice_h, self.critical_notice_h
        if None in (minor, major, critical):
            return
        errors = {}
        if major > minor:
            errors["major_notice_h"] = (
                f"A major deviation is told no later than a minor one ({minor} h)."
            )
        if critical > major:
            errors["critical_notice_h"] = (
                f"A critical deviation is told no later than a major one ({major} h)."
            )
        if errors:
            raise ValidationError(errors)

    def notice_hours(self, deviation_class: str) -> int:
        """Hours within which the sponsor hears of a deviation of ``deviation_class``."""
        return int(getattr(self, f"{DeviationClass(deviation_class).value}_notice_h"))


from opencdmo.quality.records import Capa, CapaAction, Deviation, Disposition  # noqa: E402

__all__ = [
    "Capa",
    "CapaAction",
    "Deviation",
    "DeviationClass",
    "Disposition",
    "Meaning",
    "QualityAgreement",
    "Signature",
]
