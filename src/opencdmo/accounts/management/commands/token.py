"""``opencdmo token``: API tokens for integrators and scripts, issued and revoked as on the page.

``token create`` prints only the secret on stdout, so ``TOKEN=$(opencdmo token create …)``
captures it; what it did goes to stderr. Creation and revocation go through the same services
as the *API tokens* page, so they are audited the same way (the token's user as the actor).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django_scopes import scopes_disabled

from opencdmo.accounts import services
from opencdmo.accounts.models import ApiToken, TokenScope, User
from opencdmo.accounts.tokens import TOKEN_PREFIX, format_utc

CREATED_REASON = "Created with opencdmo token create"


def _user(username: str, *, active: bool = True) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"No user '{username}'.")
    if active and not user.is_active:
        raise CommandError(f"User '{username}' is inactive; a token of theirs would be refused.")
    return user


def _fields(exc: ValidationError) -> str:
    """A service's field-named errors as the options that carry those fields."""
    return "; ".join(f"--{k.replace('_', '-')}: {' '.join(v)}" for k, v in exc.message_dict.items())


def _when(value: Any) -> str:
    return format_utc(value) if value else "never"


def _status(token: ApiToken, now: datetime) -> str:
    if token.revoked_at:
        return f"revoked {_when(token.revoked_at)}"
    if token.has_expired(now):
        return f"expired {_when(token.expires_at)}"
    return "active"


class Command(BaseCommand):
    help = "Create, list and revoke API tokens; each is audited like one made on the page."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser(
            "create",
            help="print a new token for USER on stdout (shown once, stored as a digest)",
            description="Print a new API token for USER on stdout; it is shown only this once.",
        )
        create.add_argument("username", metavar="USER", help="the user the token acts as")
        create.add_argument(
            "--name",
            required=True,
            help="what the token is for, e.g. the system that will use it (shown in lists)",
        )
        create.add_argument(
            "--scope",
            choices=TokenScope.values,
            default=TokenScope.READ,
            help="read: GET requests only (the default); write: whatever the user's role may do",
        )
        create.add_argument(
            "--expires-in-days",
            type=int,
            metavar="N",
            help="the token stops working N days from now (default: never, until revoked)",
        )
        create.add_argument(
            "--reason",
            default=CREATED_REASON,
            help=f"reason recorded in the audit trail (default: '{CREATED_REASON}')",
        )
        listing = actions.add_parser(
            "list",
            help="list USER's tokens: prefix, name, scope, created, expires, last used, status",
            description="List USER's API tokens, newest first; secrets are never shown.",
        )
        listing.add_argument("username", metavar="USER", help="whose tokens to list")
        revoke = actions.add_parser(
            "revoke",
            help="revoke the token with PREFIX; requests with it are refused from then on",
            description="Revoke one API token, named by the prefix that lists show.",
        )
        revoke.add_argument(
            "prefix",
            metavar="PREFIX",
            help=f"the token's prefix as lists show it, with or without '{TOKEN_PREFIX}'",
        )
        revoke.add_argument(
            "--reason", required=True, help="why the token is revoked (audit trail)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with scopes_disabled():
            getattr(self, f"_{options['action']}")(options)

    def _create(self, options: dict[str, Any]) -> None:
        user = _user(options["username"])
        try:
            token, secret = services.issue_token(
                user,
                options["name"],
                options["reason"],
                scope=options["scope"],
                expires_in_days=options["expires_in_days"],
            )
        except PermissionDenied as exc:
            raise CommandError(f"{user.username}: {exc}") from exc
        except ValidationError as exc:
            raise CommandError(_fields(exc)) from exc
        expiry = f"expires {_when(token.expires_at)}" if token.expires_at else "never expires"
        self.stderr.write(
            f"Created API token '{token.name}' ({TOKEN_PREFIX}{token.prefix}…, {token.scope}, "
            f"{expiry}) for {user.username}; it is shown only this once:"
        )
        self.stdout.write(secret)

    def _list(self, options: dict[str, Any]) -> None:
        user = _user(options["username"], active=False)
        tokens = list(ApiToken.objects.filter(user=user))
        if not tokens:
            self.stdout.write(f"{user.username} has no API tokens.")
            return
        now = timezone.now()
        for token in tokens:
            self.stdout.write(
                f"{TOKEN_PREFIX}{token.prefix}  {token.name}  {token.scope}"
                f"  created {_when(token.created_at)}  expires {_when(token.expires_at)}"
                f"  last used {_when(token.last_used_at)}  {_status(token, now)}"
            )

    def _revoke(self, options: dict[str, Any]) -> None:
        prefix = re.sub(r"[^A-Za-z0-9_-]", "", options["prefix"].removeprefix(TOKEN_PREFIX))
        token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
        if token is None:
            raise CommandError(f"No API token with prefix '{options['prefix']}'.")
        if token.revoked_at is not None:
            raise CommandError(
                f"Token '{token.name}' was already revoked {_when(token.revoked_at)}."
            )
        # A deactivated user's tokens are already refused; the operator at the shell still
        # revokes them, as the system, since their user holds no permission any more.
        actor = token.user if token.user.is_active else None
        try:
            services.revoke_token(actor, token, options["reason"])
        except ValidationError as exc:
            raise CommandError(_fields(exc)) from exc
        self.stdout.write(f"Revoked API token '{token.name}' of {token.user.username}.")
