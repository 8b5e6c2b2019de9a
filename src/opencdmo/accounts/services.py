"""Creating organisations and users, managing users, issuing and revoking API tokens.

Every change is audited. User management calls ``audit.services.record`` directly (with
``snapshot`` and ``changed``), the way ``network.services`` writes its entries.
"""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.text import slugify
from django_scopes import scopes_disabled

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


# --- user management by each organisation's administrator -------------------------------------

USER_AUDIT_FIELDS = (
    "username",
    "first_name",
    "last_name",
    "email",
    "organisation",
    "role",
    "is_active",
)


def _user_state(user: User) -> dict[str, object]:
    return audit.snapshot(user, USER_AUDIT_FIELDS)


def _change_reason(reason: str | None) -> str:
    """Every change of a user says why; the reason goes on the audit trail."""
    text = (reason or "").strip()
    if not text:
        raise ValidationError(
            {"reason": "Give a reason for this change; it goes on the audit trail."}
        )
    return text


def can_manage_users_of(actor: User, organisation: Organisation) -> bool:
    """Whether ``actor`` administers the users of ``organisation``."""
    if not actor.can(roles.MANAGE_USERS):
        return False
    return actor.is_platform_admin or actor.organisation_id == organisation.pk


def _authorise_users(actor: User, organisation: Organisation) -> None:
    """403 for a role without ``MANAGE_USERS``; 404 for another organisation's users."""
    if not actor.can(roles.MANAGE_USERS):
        raise PermissionDenied("Your role may not manage users.")
    if not can_manage_users_of(actor, organisation):
        raise Http404("No such user.")


def managed_users(actor: User, organisation: Organisation | None = None) -> QuerySet[User]:
    """The users ``actor`` administers: its organisation's, or any organisation's for the
    platform administrator (narrowed to ``organisation`` when given)."""
    if not actor.can(roles.MANAGE_USERS):
        raise PermissionDenied("Your role may not manage users.")
    with scopes_disabled():
        users = User.objects.select_related("organisation").order_by(
            "organisation__name", "-is_active", "username"
        )
    if organisation is not None:
        _authorise_users(actor, organisation)
        return users.filter(organisation=organisation)
    if actor.is_platform_admin:
        return users.filter(organisation__isnull=False)
    return users.filter(organisation_id=actor.organisation_id)


def get_managed_user(actor: User, pk: int) -> User:
    """One user ``actor`` administers; anyone else's answers like a missing one (404)."""
    user = managed_users(actor).filter(pk=pk).first()
    if user is None:
        raise Http404("No such user.")
    return user


def _keeps_an_admin(user: User, *, role: str, is_active: bool) -> None:
    """Refuse the change that would leave ``user``'s organisation without an active
    administrator: nobody could then manage its users."""
    if (
        roles.MANAGE_USERS not in roles.PERMISSIONS.get(user.role, frozenset())
        or not user.is_active
    ):
        return
    if is_active and roles.MANAGE_USERS in roles.PERMISSIONS.get(role, frozenset()):
        return
    admin_roles = [r for r, perms in roles.PERMISSIONS.items() if roles.MANAGE_USERS in perms]
    with scopes_disabled():
        others = (
            User.objects.select_for_update()
            .filter(organisation_id=user.organisation_id, is_active=True, role__in=admin_roles)
            .exclude(pk=user.pk)
        )
        if others.exists():
            return
    field = "role" if is_active else "is_active"
    raise ValidationError(
        {
            field: f"{user} is the last active administrator of {user.organisation}; "
            "make someone else an administrator first."
        }
    )


def invite_user(
    actor: User,
    *,
    organisation: Organisation,
    username: str,
    email: str,
    role: str,
    reason: str,
    first_name: str = "",
    last_name: str = "",
) -> tuple[User, str]:
    """Create a user without a password and return it with a one-time set-password token.

    There is no mail server: the administrator passes the link on. The token is Django's
    password-reset token, so it stops working once the password is set.
    """
    _authorise_users(actor, organisation)
    reason = _change_reason(reason)
    user = User(
        organisation=organisation,
        username=username.strip(),
        email=email.strip(),
        role=role,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
    )
    user.set_unusable_password()
    errors: dict[str, list[str]] = {}
    try:
        with scopes_disabled():
            user.full_clean()
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if not user.email:
        errors.setdefault("email", []).append("Give the person's e-mail address.")
    if errors:
        raise ValidationError(errors)
    user.is_staff = user.is_superuser = role == roles.Role.PLATFORM_ADMIN
    with transaction.atomic():
        user.save()
        audit.record(
            "opencdmo.user.invited",
            actor=actor,
            organisation_id=organisation.pk,
            target=user,
            after=_user_state(user),
            reason=reason,
        )
    return user, default_token_generator.make_token(user)


def set_password_link(actor: User, user: User) -> str:
    """A fresh one-time token for a user who has not set a password yet."""
    _authorise_users(actor, user.organisation)
    if user.has_usable_password():
        raise ValidationError({"password": f"{user} has already set a password."})
    return default_token_generator.make_token(user)


def change_role(actor: User, user: User, role: str, reason: str) -> User:
    """Give ``user`` another role of its organisation's kind; the last administrator stays."""
    _authorise_users(actor, user.organisation)
    reason = _change_reason(reason)
    with transaction.atomic():
        stored = _stored_user(user)
        if stored.role == role:
            return stored
        _keeps_an_admin(stored, role=role, is_active=stored.is_active)
        before = _user_state(stored)
        stored.role = role
        stored.full_clean(exclude=["password", "username"])
        stored.is_staff = stored.is_superuser = role == roles.Role.PLATFORM_ADMIN
        stored.save(update_fields=["role", "is_staff", "is_superuser"])
        old, new = audit.changed(before, _user_state(stored))
        audit.record(
            "opencdmo.user.role_changed",
            actor=actor,
            organisation_id=stored.organisation_id,
            target=stored,
            before=old,
            after=new,
            reason=reason,
        )
    return stored


def set_active(actor: User, user: User, active: bool, reason: str) -> User:
    """Deactivate (sign-in, sessions and tokens stop working) or reactivate ``user``."""
    _authorise_users(actor, user.organisation)
    reason = _change_reason(reason)
    with transaction.atomic():
        stored = _stored_user(user)
        if stored.is_active == active:
            return stored
        _keeps_an_admin(stored, role=stored.role, is_active=active)
        stored.is_active = active
        stored.save(update_fields=["is_active"])
        audit.record(
            "opencdmo.user.reactivated" if active else "opencdmo.user.deactivated",
            actor=actor,
            organisation_id=stored.organisation_id,
            target=stored,
            before={"is_active": not active},
            after={"is_active": active},
            reason=reason,
        )
    return stored


def set_own_password(user: User, password: str) -> User:
    """The invited person's first password, set through the one-time link."""
    validate_password(password, user)
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        audit.record(
            "opencdmo.user.password_set",
            actor=user,
            organisation_id=user.organisation_id,
            target=user,
            reason="Password set through the one-time link",
        )
    return user


def _stored_user(user: User) -> User:
    """A fresh, locked copy, so two administrators' changes cannot interleave."""
    with scopes_disabled():
        stored = (
            User.objects.select_for_update(of=("self",))
            .select_related("organisation")
            .filter(pk=user.pk)
            .first()
        )
    if stored is None:
        raise Http404("No such user.")
    return stored
