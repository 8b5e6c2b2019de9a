"""Organisations, users and API tokens."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models

from opencdmo.accounts.roles import (
    MANAGE_TOKENS,
    MANAGE_USERS,
    MANAGE_USERS_OF_ANY_ORG,
    PERMISSIONS,
    ROLES_BY_KIND,
    OrganisationKind,
    Role,
)
from opencdmo.core.tenancy import Tenancy, TenantManager


class Organisation(models.Model):
    """A CDMO, a sponsor or the platform operator; the unit of tenancy."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    kind = models.CharField(max_length=16, choices=OrganisationKind.choices)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2 code")
    headquarters = models.CharField(max_length=120, blank=True)
    website = models.URLField(blank=True)
    description = models.TextField(blank=True)
    is_demo = models.BooleanField(default=False, help_text="Seeded by 'opencdmo demo'")
    require_two_factor = models.BooleanField(
        default=False,
        help_text="Members sign in with a one-time code as well; those without two-factor "
        "sign-in are sent to set it up before anything else",
    )

    objects = TenantManager(owner="id", public=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_cdmo(self) -> bool:
        return self.kind == OrganisationKind.CDMO

    @property
    def is_sponsor(self) -> bool:
        return self.kind == OrganisationKind.SPONSOR


class User(AbstractUser):
    """A person in one organisation, holding one role."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="users", null=True, blank=True
    )
    role = models.CharField(max_length=32, choices=Role.choices, blank=True)
    failed_login_count = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    reset_mail_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When the last reset link was mailed"
    )
    password_changed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the password was last set, changed or reset"
    )
    totp_secret = models.TextField(
        blank=True, help_text="The TOTP secret, encrypted with a key derived from SECRET_KEY"
    )
    totp_enabled_at = models.DateTimeField(
        null=True, blank=True, help_text="When two-factor sign-in was confirmed; empty: off"
    )
    totp_last_step = models.BigIntegerField(
        null=True, blank=True, help_text="The 30-second step of the last code accepted"
    )

    # Authentication loads the user before any scope exists, so the default manager stays
    # unscoped; ``organisation.users`` and other readers go through the declaration. An
    # organisation's administrator manages its own people; the platform's, everyone's.
    objects = UserManager()
    tenancy = Tenancy(owner="organisation", change=MANAGE_USERS, curate=MANAGE_USERS_OF_ANY_ORG)

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def clean(self) -> None:
        """A role must belong to the organisation's kind (no sponsor planners)."""
        super().clean()
        if self.organisation_id is None:
            return
        allowed = ROLES_BY_KIND.get(self.organisation.kind, ())
        if self.role not in allowed:
            raise ValidationError(
                {
                    "role": f"Role '{self.role}' does not exist for a {self.organisation.kind} "
                    f"organisation; choose one of: {', '.join(allowed)}."
                }
            )

    @property
    def permissions(self) -> frozenset[str]:
        return PERMISSIONS.get(self.role, frozenset())

    def can(self, permission: str) -> bool:
        """Whether this user's role grants ``permission`` (a string from ``roles``)."""
        return self.is_active and permission in self.permissions

    @property
    def is_platform_admin(self) -> bool:
        return self.role == Role.PLATFORM_ADMIN

    @property
    def has_two_factor(self) -> bool:
        """Whether sign-in and signing ask this user for a one-time code."""
        return self.totp_enabled_at is not None


class RecoveryCode(models.Model):
    """One of a user's single-use codes for signing in without the authenticator; only a
    keyed digest is stored, and a used code keeps its row with the time it was used."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    digest = models.CharField(max_length=64, unique=True)
    used_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager(owner="user__organisation")

    def __str__(self) -> str:
        return f"recovery code of {self.user_id}"


class TokenScope(models.TextChoices):
    """What a token may do on ``/api/``: read only, or read and change."""

    READ = "read", "Read only"
    WRITE = "write", "Read and write"


class ApiToken(models.Model):
    """A bearer token acting as its user on ``/api/`` only; only a SHA-256 digest of the
    secret is stored. A ``read`` token is refused on every method but GET, HEAD and OPTIONS."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    scope = models.CharField(max_length=8, choices=TokenScope.choices, default=TokenScope.WRITE)
    expires_at = models.DateTimeField(null=True, blank=True)
    prefix = models.CharField(max_length=12, unique=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    # Every role holds MANAGE_TOKENS; that only its own user revokes a token is the
    # services' added check (``accounts.services.TOKEN``).
    objects = TenantManager(owner="user__organisation", change=MANAGE_TOKENS)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now
