"""``opencdmo map-tag``: a site's plant tag lands as a variable when files are ingested."""

# The module is named after the command users type.
# ruff: noqa: N999

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404

from opencdmo.accounts.models import User
from opencdmo.core.tenancy import caller_scope
from opencdmo.manufacturing.services import set_tag_mapping
from opencdmo.network.models import Site


class Command(BaseCommand):
    help = (
        "Map a plant tag of one of your sites to a variable: columns (wide files) or variable "
        "names (long files) with that tag are ingested as the variable, in the tag's unit "
        "unless the file gives one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("site", metavar="SITE", help="the site's code")
        parser.add_argument("tag", metavar="TAG", help="the tag as the plant's files name it")
        parser.add_argument("variable", metavar="VARIABLE", help="the variable it lands as")
        parser.add_argument("--unit", default="", help="the unit the tag reports in")
        parser.add_argument(
            "--as",
            dest="username",
            required=True,
            metavar="USERNAME",
            help="a CDMO user who records batch data",
        )
        parser.add_argument("--reason", default="", help="reason on the audit trail")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user '{options['username']}'.")
        with caller_scope(user):
            site = Site.objects.filter(owner_id=user.organisation_id, code=options["site"]).first()
            if site is None:
                raise CommandError(
                    f"No site '{options['site']}' of {user.username}'s organisation."
                )
            try:
                mapping = set_tag_mapping(
                    site,
                    actor=user,
                    tag=options["tag"],
                    variable=options["variable"],
                    unit=options["unit"],
                    reason=options["reason"],
                )
            except (PermissionDenied, Http404) as exc:
                raise CommandError(f"{user.username}: {exc}") from exc
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
        unit = f" ({mapping.unit})" if mapping.unit else ""
        self.stdout.write(f"At {site.code}, tag {mapping.tag}{unit} lands as {mapping.variable}.")
