"""Every command and option explains itself in ``--help``."""

from __future__ import annotations

import argparse

import pytest
from django.core.management import get_commands

from opencdmo.cli import ENGINE_COMMANDS, PLATFORM_COMMANDS, main
from tests.cli.parsers import options, platform_parser


@pytest.mark.parametrize("name", list(PLATFORM_COMMANDS))
def test_every_platform_option_has_help(name: str) -> None:
    """A platform command's options, positionals and subcommands all carry help text."""
    silent = [
        f"{option.command}: {option.name}"
        for option in options(platform_parser(name), f"opencdmo {name}")
        if not option.help and option.help != argparse.SUPPRESS
    ]
    assert silent == [], f"options without help text: {silent}"


def test_every_opencdmo_management_command_is_listed() -> None:
    """`opencdmo --help` lists every command the project adds, and nothing that is missing."""
    ours = {name for name, app in get_commands().items() if app.startswith("opencdmo.")}
    assert ours | {"migrate"} == set(PLATFORM_COMMANDS)


def test_usage_lists_every_command_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """`opencdmo --help` has one line per command: name and description."""
    assert main(["--help"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for name, description in [
        *((name, help_) for name, (_, help_) in ENGINE_COMMANDS.items()),
        *PLATFORM_COMMANDS.items(),
    ]:
        assert any(line.split() == [name, *description.split()] for line in lines), name
