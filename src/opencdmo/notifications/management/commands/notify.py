"""``opencdmo notify digest``: e-mail each person what is overdue for them."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from opencdmo.notifications.services import send_digests


class Command(BaseCommand):
    help = "Notification tools: e-mail each person a digest of what is overdue for them."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser(
            "digest",
            help="E-mail each active person with an address the CAPA actions and deviation "
            "notices overdue for them (run it daily, from cron say).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sent = send_digests()
        self.stdout.write(f"Sent {sent} digest{'s' if sent != 1 else ''}.")
