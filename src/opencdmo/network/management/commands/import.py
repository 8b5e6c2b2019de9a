"""``opencdmo import``: sites, suites and equipment from a CSV or Excel file, all or nothing."""

# The module is named after the command users type, which is a Python keyword.
# ruff: noqa: N999

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import (
    BaseCommand,
    CommandError,
    CommandParser,
    DjangoHelpFormatter,
)

from opencdmo.accounts.models import User
from opencdmo.network.importer import COLUMNS, KINDS, import_file


class _HelpFormatter(DjangoHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Keeps the column tables of the epilog as written."""


def columns_help() -> str:
    """The columns of each kind, as shown by ``opencdmo import --help``."""
    lines = ["columns (* required):"]
    for kind in KINDS:
        lines.append(f"  {kind}:")
        for column in COLUMNS[kind]:
            mark = "*" if column.required else " "
            lines += textwrap.wrap(
                column.help,
                width=92,
                initial_indent=f"    {mark} {column.name:<27} ",
                subsequent_indent=" " * 34,
            )
    lines += [
        "",
        "The first non-empty line names the columns. CSV files are UTF-8 or UTF-16 with a",
        "byte-order mark, separated by commas, semicolons, tabs or '|'; at most 100,000 rows.",
        "A workbook with sheets named sites, suites and equipment is",
        "imported in one go; suites and equipment may refer to sites and suites of the same",
        "file. If any row is wrong nothing is written; the first 200 problems are listed with",
        "their line (Excel: row), column and reason, the others counted by kind. A cell that",
        "holds a formula is refused: paste values. See docs/import.md.",
    ]
    return "\n".join(lines)


class Command(BaseCommand):
    help = (
        "Import sites, suites and equipment from a CSV or Excel (.xlsx) file for the user "
        "given with --as. All or nothing: exit status 1 and nothing written if any row is wrong."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = _HelpFormatter
        parser.description = textwrap.fill(self.help, width=92)
        parser.epilog = columns_help()
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="a .csv or .xlsx file")
        parser.add_argument(
            "--kind",
            choices=KINDS,
            help="what the file holds (default: from the CSV file name or the sheet names)",
        )
        parser.add_argument(
            "--as",
            dest="username",
            required=True,
            metavar="USERNAME",
            help="the importing user; needs the import permission (CDMO or platform admin)",
        )
        parser.add_argument("--sheet", help="the Excel sheet to read (default: by kind)")
        parser.add_argument(
            "--dry-run", action="store_true", help="check everything and write nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user '{options['username']}'.")
        try:
            report = import_file(
                path,
                kind=options["kind"],
                actor=user,
                sheet=options["sheet"],
                dry_run=options["dry_run"],
            )
        except PermissionDenied as exc:
            raise CommandError(f"{user.username}: {exc}") from exc
        for line in report.problem_lines():
            self.stderr.write(line)
        if not report.ok:
            raise CommandError(report.summary())
        self.stdout.write(self.style.SUCCESS(report.summary()))
