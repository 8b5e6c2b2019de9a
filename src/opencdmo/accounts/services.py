"""Creating organisations and users, issuing and revoking API tokens; every change audited."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from opencdmo.accounts import roles, tokens
from opencdmo.accounts.models import ApiToken, Organisation, User
from opencdmo.audit import services as audit


def create_organisation(
    *,
    name: str,
    kind: str,
    actor: User | None = None,
    reason: str = "",
    slug: str = "",
    **fields: object,
) -> Organisation:
    """Create an organisation of ``kind`` (cdmo, sponsor, platform)."""
    if kind not in roles.OrganisationKind.values:
        raise ValidationError({"kind": f"Unknown organisation kind '{kind}'."})
    organisation = Organisation(name=name, kind=kind, slug=slug or slugify(name)[:80], **fields)
    organisation.full_clean()
    with transaction.atomic():
        organisation.save()
        audit.record(
            "opencdmo.organisation.created",
            actor=actor,
            organisation_id=organisation.pk,
            target=organisation,
            after=audit.snapshot(organisation),
            reason=reason or "Organisation created",
        )
    return organisation


def create_user(
    *,
    organisation: Organisation,
    username: str,
    password: str,
    role: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    actor: User | None = None,
    reason: str = "",
    check_password: bool = True,
) -> User:
    """Create a user with a role that fits the organisation's kind."""
    user = User(
        organisation=organisation,
        username=username,
        role=role,
        email=email,
        first_name=first_name,
        last_name=last_name,
    )
    user.full_clean(exclude=["password"])
    if check_password:
        validate_password(password, user)
    user.set_password(password)
    user.is_staff = user.is_superuser = role == roles.Role.PLATFORM_ADMIN
    with transaction.atomic():
        user.save()
        audit.record(
            "opencdmo.user.created",
            actor=actor,
            organisation_id=organisation.pk,
            target=user,
            after=audit.snapshot(user, ["username", "email", "organisation", "role", "is_active"]),
            reason=reason or "User created",
        )
    return user


def issue_token(user: User, name: str, reason: str = "") -> tuple[ApiToken, str]:
    """Create a token for ``user``; the secret is returned once and never stored."""
    if not user.can(roles.MANAGE_TOKENS):
        raise PermissionDenied("Your role may not create API tokens.")
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the token a name, e.g. the system that will use it."})
    secret, prefix = tokens.new_secret()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user, name=name[:100], prefix=prefix, digest=tokens.digest(secret)
        )
        audit.record(
            "opencdmo.api_token.created",
            actor=user,
            organisation_id=user.organisation_id,
            target=token,
            after={"name": token.name, "prefix": prefix, "user": user.username},
            reason=reason or "API token created",
        )
    return token, secret


def revoke_token(user: User, token: ApiToken, reason: str = "") -> ApiToken:
    """Revoke one of the caller's own tokens."""
    if token.user_id != user.pk:
        raise PermissionDenied("Only the token's owner can revoke it.")
    if token.revoked_at is not None:
        return token
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(
            "opencdmo.api_token.revoked",
            actor=user,
            organisation_id=user.organisation_id,
            target=token,
            before={"revoked_at": None},
            after={"revoked_at": token.revoked_at},
            reason=reason or "API token revoked",
        )
    return token
