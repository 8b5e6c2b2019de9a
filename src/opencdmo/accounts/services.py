"""Creating organisations and users, managing users, issuing and revoking API tokens.

Every write goes through the core's audited services (``opencdmo.core.services``): the write
check of the model's tenancy declaration, a required reason, validation keyed by field, one
transaction and one audit entry. Whose users a caller manages is said once, in
``User.tenancy``: an organisation's administrator (``MANAGE_USERS``) its own people, the
platform administrator (``MANAGE_USERS_OF_ANY_ORG``) every organisation's. ``actor=None`` is
the system (seeding, ``opencdmo createuser``): no permission check, still audited.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.text import slugify
from django_scopes import scopes_disabled

from opencdmo.accounts import roles, tokens, totp
from opencdmo.accounts.backends import claim_attempt, clear_lockout
from opencdmo.accounts.models import ApiToken, Organisation, RecoveryCode, TokenScope, User
from opencdmo.audit import services as audit
from opencdmo.core import services as core
from opencdmo.core.services import Writable
from opencdmo.core.tenancy import authorise_change, get_changeable_or_404

__all__ = [
    "USER_AUDIT_FIELDS",
    "accept_totp_code",
    "change_own_password",
    "change_role",
    "create_organisation",
    "create_user",
    "disable_two_factor",
    "enable_two_factor",
    "get_managed_user",
    "invite_user",
    "issue_token",
    "managed_users",
    "reset_password",
    "revoke_token",
    "set_active",
    "set_own_password",
    "set_password_by_administrator",
    "set_password_link",
    "set_two_factor_required",
    "verify_second_factor",
]

USER_AUDIT_FIELDS = (
    "username",
    "first_name",
    "last_name",
    "email",
    "organisation",
    "role",
    "is_active",
)
"""What a user's audit entries record: never the password hash or login counters."""


def _admin_roles() -> list[str]:
    return [role for role, held in roles.PERMISSIONS.items() if roles.MANAGE_USERS in held]


def _keeps_an_administrator(user: User) -> Iterator[tuple[str, str]]:
    """An organisation keeps an active administrator, or nobody could manage its users.

    Compared with the stored row, so only the change that removes the last one is refused;
    the other administrators are locked so that two such changes cannot both pass.
    """
    admin_roles = _admin_roles()
    if user.pk is None or (user.is_active and user.role in admin_roles):
        return
    with scopes_disabled():
        administrators = User.objects.filter(
            organisation_id=user.organisation_id, is_active=True, role__in=admin_roles
        )
        if not administrators.filter(pk=user.pk).exists():
            return
        if administrators.select_for_update().exclude(pk=user.pk).exists():
            return
    yield (
        "role" if user.is_active else "is_active",
        f"{user} is the last active administrator of {user.organisation}; "
        "make someone else an administrator first.",
    )


def _invite_rules(user: User) -> Iterator[tuple[str, str]]:
    """An invited person needs an address to receive the set-password link at."""
    if not user.email:
        yield "email", "Give the person's e-mail address."
    yield from _keeps_an_administrator(user)


def _user_values(fields: dict[str, Any]) -> dict[str, Any]:
    """Names without stray spaces; the platform role alone opens Django's admin."""
    values = {
        name: value.strip() if isinstance(value, str) and name != "role" else value
        for name, value in fields.items()
    }
    if "role" in values:
        values["is_staff"] = values["is_superuser"] = values["role"] == roles.Role.PLATFORM_ADMIN
    return values


def _user_state(user: User) -> dict[str, Any]:
    return audit.snapshot(user, USER_AUDIT_FIELDS)


def _password_state(user: User) -> dict[str, Any]:
    """Whether a password is set and since when, and any lock; never the hash."""
    return {
        "password": "set" if user.has_usable_password() else "not set",
        **audit.snapshot(user, ("password_changed_at", "locked_until")),
    }


def _only_themself(actor: User | None, user: User) -> None:
    """A first password is set by its user alone, the one-time link being the credential."""
    if actor is not None and actor.pk != user.pk:
        raise PermissionDenied("Only the person themself sets their password.")


def _token_state(token: ApiToken) -> dict[str, Any]:
    """A token as the audit trail records it: never its digest."""
    fields = ("name", "prefix", "scope", "expires_at", "revoked_at")
    return {**audit.snapshot(token, fields), "user": token.user.username}


def _its_own_user(actor: User | None, token: ApiToken) -> None:
    """The declaration's check, then: a token is its user's alone (another's is missing)."""
    authorise_change(actor, token)
    if actor is not None and token.user_id != actor.pk:
        raise Http404("No such API token.")


ORGANISATION = Writable(
    Organisation,
    fields=(
        "name",
        "slug",
        "kind",
        "country",
        "headquarters",
        "website",
        "description",
        "is_demo",
    ),
)
USER = Writable(
    User,
    fields=("username", "email", "first_name", "last_name", "role", "is_active"),
    rules=_keeps_an_administrator,
    normalise=_user_values,
    state=_user_state,
)
INVITED_USER = dataclasses.replace(USER, rules=_invite_rules)
PASSWORD = Writable(
    User,
    fields=("password", "password_changed_at", "failed_login_count", "locked_until"),
    state=_password_state,
    authorise=_only_themself,
)
ADMIN_SET_PASSWORD = dataclasses.replace(PASSWORD, authorise=authorise_change)
"""A password set for someone else: whoever the declaration lets manage that user."""
TOKEN = Writable(
    ApiToken,
    fields=("name", "scope", "expires_at", "revoked_at"),
    noun="api_token",
    state=_token_state,
    authorise=_its_own_user,
)


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
    return core.create(
        ORGANISATION,
        actor=actor,
        reason=reason,
        default_reason="Organisation created",
        fields={"name": name, "kind": kind, "slug": slug or slugify(name)[:80], **fields},
    )


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
    """Create a user with a password and a role that fits the organisation's kind."""
    fields = {
        "username": username,
        "role": role,
        "email": email,
        "first_name": first_name,
        "last_name": last_name,
    }
    if check_password:
        validate_password(password, User(organisation=organisation, **fields))
    return core.create(
        USER,
        actor=actor,
        reason=reason,
        default_reason="User created",
        parent={"organisation": organisation, "password": make_password(password)},
        fields=fields,
    )


TOKEN_DAYS_MAX = 3650
"""The longest expiry a token may be given: ten years."""


def issue_token(
    user: User,
    name: str,
    reason: str = "",
    *,
    scope: str = "write",
    expires_in_days: int | None = None,
) -> tuple[ApiToken, str]:
    """Create a token acting as ``user`` on ``/api/``, by ``user``; the secret is returned
    once and never stored.

    ``scope`` ``read`` allows only GET, HEAD and OPTIONS; ``write`` everything the user's role
    allows (the default here, as for tokens made before scopes; the page and ``opencdmo
    token create`` start from ``read``). Without ``expires_in_days`` the token lasts until
    revoked.
    """
    if not name.strip():
        raise ValidationError({"name": "Give the token a name, e.g. the system that will use it."})
    if scope not in TokenScope.values:
        raise ValidationError(
            {"scope": f"Unknown scope '{scope}'; choose one of: {', '.join(TokenScope.values)}."}
        )
    expires_at = None
    if expires_in_days is not None:
        if not 1 <= expires_in_days <= TOKEN_DAYS_MAX:
            raise ValidationError(
                {"expires_in_days": f"Give a number of days from 1 to {TOKEN_DAYS_MAX}."}
            )
        expires_at = timezone.now() + timedelta(days=expires_in_days)
    secret, prefix = tokens.new_secret()
    token = core.create(
        TOKEN,
        actor=user,
        reason=reason,
        default_reason="API token created",
        parent={"user": user, "prefix": prefix, "digest": tokens.digest(secret)},
        fields={"name": name.strip()[:100], "scope": scope, "expires_at": expires_at},
    )
    return token, secret


def revoke_token(user: User | None, token: ApiToken, reason: str = "API token revoked") -> ApiToken:
    """Revoke one of the caller's own tokens (``None``: the system, any token); one already
    revoked stays as it was.

    The tokens page asks no reason and records the default; ``opencdmo token revoke`` asks
    for one, and an empty one is refused.
    """
    token.refresh_from_db(fields=["revoked_at"])
    if token.revoked_at is not None:
        return token
    return core.update(
        TOKEN,
        token,
        actor=user,
        reason=reason,
        changes={"revoked_at": timezone.now()},
        verb="revoked",
    )


# --- user management by each organisation's administrator -------------------------------------


def managed_users(actor: User, organisation: Organisation | None = None) -> QuerySet[User]:
    """The users ``actor`` administers, as ``User.tenancy`` says: its organisation's, or
    every organisation's for the platform administrator (narrowed to ``organisation``)."""
    if not User.tenancy.may_change(actor):
        raise PermissionDenied("Your role may not manage users.")
    users = User.tenancy.changeable(
        User.objects.select_related("organisation").filter(organisation__isnull=False), actor
    ).order_by("organisation__name", "-is_active", "username")
    if organisation is not None:
        authorise_change(actor, User(organisation=organisation))
        users = users.filter(organisation=organisation)
    return users


def get_managed_user(actor: User, pk: int) -> User:
    """One user ``actor`` administers; anyone else's answers like a missing one (404)."""
    queryset = User.objects.select_related("organisation").filter(organisation__isnull=False)
    user: User = get_changeable_or_404(queryset, actor, pk=pk)
    return user


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
    user = core.create(
        INVITED_USER,
        actor=actor,
        reason=reason,
        require_reason=True,
        parent={"organisation": organisation, "password": make_password(None)},
        fields={
            "username": username,
            "email": email,
            "role": role,
            "first_name": first_name,
            "last_name": last_name,
        },
        verb="invited",
    )
    return user, default_token_generator.make_token(user)


def set_password_link(actor: User, user: User) -> str:
    """A fresh one-time token for a user who has not set a password yet."""
    authorise_change(actor, user)
    if user.has_usable_password():
        raise ValidationError({"password": f"{user} has already set a password."})
    return default_token_generator.make_token(user)


def change_role(actor: User, user: User, role: str, reason: str) -> User:
    """Give ``user`` another role of its organisation's kind; the last administrator stays."""
    return core.update(
        USER, user, actor=actor, reason=reason, changes={"role": role}, verb="role_changed"
    )


def set_active(actor: User, user: User, active: bool, reason: str) -> User:
    """Deactivate (sign-in, sessions and tokens stop working) or reactivate ``user``."""
    return core.update(
        USER,
        user,
        actor=actor,
        reason=reason,
        changes={"is_active": active},
        verb="reactivated" if active else "deactivated",
    )


def set_own_password(user: User, password: str) -> User:
    """The invited person's first password, set by themself through the one-time link."""
    if user.has_usable_password():
        raise ValidationError({"password": f"{user} has already set a password."})
    validate_password(password, user)
    return core.update(
        PASSWORD,
        user,
        actor=user,
        reason="Password set through the one-time link",
        changes={"password": make_password(password), "password_changed_at": timezone.now()},
        verb="password_set",
    )


def change_own_password(user: User, password: str) -> User:
    """A signed-in user's new password, the old one proven by the form that asks for it.

    Every other session of the user ends: their session hash, derived from the password
    hash, no longer matches (the page keeps its own with ``update_session_auth_hash``).
    """
    validate_password(password, user)
    return core.update(
        PASSWORD,
        user,
        actor=user,
        reason="Password changed by its user",
        changes={"password": make_password(password), "password_changed_at": timezone.now()},
        verb="password_changed",
    )


def reset_password(user: User, password: str) -> User:
    """A forgotten password replaced through the e-mailed one-time link, which is the
    credential; any lockout ends with it."""
    validate_password(password, user)
    return core.update(
        PASSWORD,
        user,
        actor=user,
        reason="Password reset through the e-mailed link",
        changes={
            "password": make_password(password),
            "password_changed_at": timezone.now(),
            "failed_login_count": 0,
            "locked_until": None,
        },
        verb="password_reset",
    )


def set_password_by_administrator(
    actor: User | None, user: User, password: str | None, reason: str
) -> User:
    """An administrator sets ``user``'s password (``None``: password sign-in disabled).

    The entry names who did it, for whom and why, and whether a password is set: never the
    hash. The password is checked against the validators as the user's own would be.
    """
    if password is not None:
        validate_password(password, user)
    return core.update(
        ADMIN_SET_PASSWORD,
        user,
        actor=actor,
        reason=reason,
        changes={"password": make_password(password), "password_changed_at": timezone.now()},
        verb="password_set_by_administrator",
    )


# --- two-factor sign-in ----------------------------------------------------------------------

WRONG_CODE = (
    "That code is not valid. Use the current code of your authenticator app (or a recovery code)."
)
LOCKED_OUT = (
    "This account is locked after repeated failures; try again later or reset the password."
)


def _two_factor_state(user: User) -> dict[str, Any]:
    """Whether two-factor sign-in is on and since when; never the secret."""
    return {
        "two_factor": "on" if user.totp_enabled_at is not None else "off",
        **audit.snapshot(user, ("totp_enabled_at",)),
    }


TWO_FACTOR = Writable(
    User,
    fields=("totp_secret", "totp_enabled_at", "totp_last_step"),
    state=_two_factor_state,
    authorise=_only_themself,
)


def _organisation_administrator(actor: User | None, organisation: Organisation) -> None:
    """An organisation's administrator for its own organisation, the platform's for any."""
    authorise_change(actor, User(organisation=organisation))


TWO_FACTOR_POLICY = Writable(
    Organisation,
    fields=("require_two_factor",),
    authorise=_organisation_administrator,
)


def _store_recovery_codes(user: User, codes: list[str]) -> None:
    with scopes_disabled():
        RecoveryCode.objects.filter(user=user).delete()
        RecoveryCode.objects.bulk_create(
            RecoveryCode(user=user, digest=totp.recovery_digest(code)) for code in codes
        )


def enable_two_factor(user: User, secret: str, code: str) -> list[str]:
    """Turn two-factor sign-in on once ``code`` proves the authenticator holds ``secret``;
    returns the ten recovery codes, which are shown this once and stored as digests."""
    step = totp.matching_step(secret, code, None)
    if not step:
        raise ValidationError({"code": WRONG_CODE})
    codes = totp.new_recovery_codes()
    core.update(
        TWO_FACTOR,
        user,
        actor=user,
        reason="Two-factor sign-in enabled by its user",
        changes={
            "totp_secret": totp.encrypt(secret),
            "totp_enabled_at": timezone.now(),
            "totp_last_step": step,
        },
        after_save=lambda stored: _store_recovery_codes(stored, codes),
        verb="two_factor_enabled",
    )
    return codes


def recovery_codes_left(user: User) -> int:
    with scopes_disabled():
        return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


def _refuse_second_factor(user: User, reason: str, *, step: str) -> None:
    audit.record(
        "opencdmo.user.login_failed",
        organisation_id=user.organisation_id,
        target=user,
        actor_name=user.username,
        after={"username": user.username, "known_user": True, "step": step},
        reason=reason,
    )


def _use_recovery_code(user: User, code: str, step: str) -> bool:
    """Mark the matching unused recovery code used, on the audit trail; ``False`` if none."""
    with transaction.atomic(), scopes_disabled():
        used = RecoveryCode.objects.filter(
            user=user, digest=totp.recovery_digest(code), used_at__isnull=True
        ).update(used_at=timezone.now())
        if not used:
            return False
        left = RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()
        audit.record(
            "opencdmo.user.recovery_code_used",
            actor=user,
            organisation_id=user.organisation_id,
            target=user,
            after={"recovery_codes_left": left},
            reason=f"A recovery code instead of the authenticator's code ({step})",
        )
    return True


def accept_totp_code(user: User, code: str) -> bool:
    """Whether ``code`` is a current code of ``user``'s authenticator not used before; the
    caller has claimed the attempt. A code once accepted is not accepted again."""
    try:
        secret = totp.decrypt(user.totp_secret)
    except totp.SecretUnreadableError:
        return False  # encrypted under an earlier SECRET_KEY: no code can match it
    matched = totp.matching_step(secret, code, user.totp_last_step)
    if not matched:
        return False
    unused = Q(totp_last_step__isnull=True) | Q(totp_last_step__lt=matched)
    if not User.objects.filter(unused, pk=user.pk).update(totp_last_step=matched):
        return False  # the same code, accepted a moment ago by a parallel request
    user.totp_last_step = matched
    return True


def verify_second_factor(user: User, code: str, *, recovery: bool = True, step: str) -> None:
    """Accept a current TOTP code of ``user`` (or, if ``recovery``, an unused recovery code),
    or raise ``ValidationError`` keyed ``code``.

    Each attempt claims one of the account's tries before the code is checked, as a password
    does (``backends.claim_attempt``), so wrong codes count toward the same lockout and a
    locked account's codes are not checked at all; a correct one clears the count. A refusal
    goes on the audit trail as a failed login naming ``step``.
    """
    if not user.has_two_factor:
        return
    if not claim_attempt(user.pk, timezone.now()):
        _refuse_second_factor(user, "Account locked", step=step)
        raise ValidationError({"code": LOCKED_OUT})
    if not (accept_totp_code(user, code) or (recovery and _use_recovery_code(user, code, step))):
        _refuse_second_factor(user, "Wrong two-factor code", step=step)
        raise ValidationError({"code": WRONG_CODE})
    clear_lockout(user.pk)


def disable_two_factor(user: User, password: str, code: str) -> User:
    """Turn two-factor sign-in off: the password and a current code (or a recovery code)
    prove it is the user; the secret and the recovery codes are deleted."""
    if not user.check_password(password):
        raise ValidationError({"password": "The password is not correct."})
    verify_second_factor(user, code, step="turning two-factor sign-in off")
    return core.update(
        TWO_FACTOR,
        user,
        actor=user,
        reason="Two-factor sign-in disabled by its user",
        changes={"totp_secret": "", "totp_enabled_at": None, "totp_last_step": None},
        after_save=lambda stored: _store_recovery_codes(stored, []),
        verb="two_factor_disabled",
    )


def set_two_factor_required(
    actor: User | None, organisation: Organisation, required: bool, reason: str
) -> Organisation:
    """Require (or stop requiring) two-factor sign-in of ``organisation``'s members; those
    without it are sent to set it up at their next request."""
    return core.update(
        TWO_FACTOR_POLICY,
        organisation,
        actor=actor,
        reason=reason,
        changes={"require_two_factor": required},
        verb="two_factor_required" if required else "two_factor_optional",
    )
