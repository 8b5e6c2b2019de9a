"""``opencdmo audit verify``: recompute every hash chain and name the first broken entry."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from opencdmo.audit.verification import check_all_chains


class Command(BaseCommand):
    help = "Audit-trail tools; 'verify' detects edited, deleted, inserted or reordered entries."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser(
            "verify", help="Recompute every tenant's hash chain; exit 1 on the first break."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        check = check_all_chains()
        *details, verdict = check.lines()
        if not check.intact:
            for line in details:
                self.stderr.write(line)
            raise CommandError(verdict)
        self.stdout.write(verdict)
