"""``opencdmo createuser``: add a user with a role to an organisation."""

from __future__ import annotations

import getpass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from opencdmo.accounts import services
from opencdmo.accounts.models import Organisation
from opencdmo.accounts.roles import OrganisationKind, Role


class Command(BaseCommand):
    help = "Create a user in an organisation (created too with --create-organisation)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="the new user's login name")
        parser.add_argument("--organisation", required=True, help="organisation slug")
        parser.add_argument(
            "--role",
            required=True,
            choices=Role.values,
            metavar="ROLE",
            help="one of the organisation kind's roles: " + ", ".join(Role.values),
        )
        parser.add_argument("--email", default="", help="e-mail address (optional)")
        parser.add_argument("--password", help="read from the terminal when omitted")
        parser.add_argument(
            "--create-organisation",
            choices=OrganisationKind.values,
            metavar="KIND",
            help="create the organisation with this kind (cdmo, sponsor, platform) if missing",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        password = options["password"] or getpass.getpass("Password: ")
        slug = options["organisation"]
        try:
            with transaction.atomic():
                organisation = Organisation.objects.filter(slug=slug).first()
                if organisation is None:
                    if not options["create_organisation"]:
                        raise CommandError(
                            f"No organisation '{slug}'; pass --create-organisation KIND."
                        )
                    organisation = services.create_organisation(
                        name=slug,
                        slug=slug,
                        kind=options["create_organisation"],
                        reason="Created with opencdmo createuser",
                    )
                user = services.create_user(
                    organisation=organisation,
                    username=options["username"],
                    password=password,
                    role=options["role"],
                    email=options["email"],
                    reason="Created with opencdmo createuser",
                )
        except ValidationError as exc:
            messages = (
                "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
                if hasattr(exc, "error_dict")
                else " ".join(exc.messages)
            )
            raise CommandError(messages) from exc
        self.stdout.write(f"Created {user.username} ({user.get_role_display()}) in {organisation}.")
