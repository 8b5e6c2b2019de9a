"""docs/cli.md documents every command and option the parsers have, and nothing else.

Each command has a heading such as ``### `opencdmo token create USER --name NAME` `` and a
table whose rows start with the option (`` `--name NAME` ``) or positional (`` `USER` ``).
Options every platform command takes are documented once, under "Options every platform
command takes".
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest
from django.core.management.base import BaseCommand

from tests.cli.parsers import ALL_COMMANDS, options, parser_for, subcommands

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
COMMON_HEADING = "Options every platform command takes"
_HEADING = re.compile(r"^#{2,4} `opencdmo (?P<path>[a-z][a-z-]*(?: [a-z][a-z-]*)*)")
_ROW = re.compile(r"^\| `(?P<option>[^`\s]+)")


def documented() -> dict[str, set[str]]:
    """Options per section of docs/cli.md: ``"opencdmo plan stn"`` -> ``{"FILE", "--seed", …}``."""
    sections: dict[str, set[str]] = {}
    current: str | None = None
    for line in REFERENCE.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            heading = _HEADING.match(line)
            current = (
                f"opencdmo {heading['path']}"
                if heading
                else COMMON_HEADING
                if COMMON_HEADING in line
                else None
            )
            if current is not None:
                sections.setdefault(current, set())
        elif current is not None and (row := _ROW.match(line)):
            sections[current].add(row["option"])
    return sections


def _common_options() -> set[str]:
    parser = BaseCommand().create_parser("opencdmo", "any")
    return {o.name for o in options(parser, "any") if o.name.startswith("-")}


def _in_parsers(names: list[str] = ALL_COMMANDS) -> dict[str, set[str]]:
    """Options per command and subcommand, without the common ones and the subcommand names."""
    common = _common_options()
    found: dict[str, set[str]] = {}
    for name in names:
        for path, parser in subcommands(parser_for(name), f"opencdmo {name}"):
            found[path] = {
                option.name
                for option in options(parser, path)
                if option.command == path
                and option.name not in common
                and not _is_subcommand(parser, option.name)
            }
    return found


def _is_subcommand(parser: argparse.ArgumentParser, name: str) -> bool:
    return any(
        name in action.choices
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
    )


def test_every_command_has_a_section() -> None:
    """A command or subcommand without a section in docs/cli.md is undocumented."""
    missing = sorted(set(_in_parsers()) - set(documented()))
    assert missing == [], f"docs/cli.md has no section for: {missing}"


def test_every_section_is_a_command() -> None:
    """A section for a command that no longer exists misleads."""
    stale = sorted(set(documented()) - set(_in_parsers()) - {COMMON_HEADING})
    assert stale == [], f"docs/cli.md documents commands that do not exist: {stale}"


@pytest.mark.parametrize("name", ALL_COMMANDS)
def test_options_match_the_parser(name: str) -> None:
    """Each section's option table lists exactly the parser's options and positionals."""
    sections = documented()
    for path, in_parser in _in_parsers([name]).items():
        in_doc = sections.get(path, set())
        assert sorted(in_parser - in_doc) == [], f"{path}: options missing from docs/cli.md"
        assert sorted(in_doc - in_parser) == [], f"{path}: docs/cli.md lists options it lacks"


def test_common_options_are_documented_once() -> None:
    """Django's options shared by every platform command have their own table."""
    assert documented().get(COMMON_HEADING) == _common_options()
