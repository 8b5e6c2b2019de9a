"""The argument parsers behind every ``opencdmo`` command, for tests that read them.

Platform commands are Django management commands; engine commands build an argparse parser in
their ``main``, which is caught here when it is asked for ``--help``, so the tests follow those
modules whatever they name their parser function.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from unittest import mock

from django.core.management import get_commands, load_command_class

from opencdmo.cli import ENGINE_COMMANDS, PLATFORM_COMMANDS


class _ParserFoundError(Exception):
    def __init__(self, parser: argparse.ArgumentParser) -> None:
        super().__init__(parser.prog)
        self.parser = parser


def platform_parser(name: str) -> argparse.ArgumentParser:
    command = load_command_class(get_commands()[name], name)
    return command.create_parser("opencdmo", name)


def engine_parser(name: str) -> argparse.ArgumentParser:
    module = importlib.import_module(ENGINE_COMMANDS[name][0])

    def catch(parser: argparse.ArgumentParser, file: object = None) -> None:
        raise _ParserFoundError(parser)

    try:
        with (
            mock.patch.object(argparse.ArgumentParser, "print_help", catch),
            contextlib.redirect_stdout(io.StringIO()),
        ):
            module.main(["--help"])
    except _ParserFoundError as found:
        found.parser.prog = f"opencdmo {name}"
        return found.parser
    raise AssertionError(f"opencdmo {name} --help printed no argparse help")


def parser_for(name: str) -> argparse.ArgumentParser:
    return engine_parser(name) if name in ENGINE_COMMANDS else platform_parser(name)


@dataclass(frozen=True)
class Option:
    """One argument of one (sub)command: ``--name`` for options, the metavar for positionals."""

    command: str
    name: str
    help: str | None
    action: argparse.Action


def _name(action: argparse.Action) -> str:
    if action.option_strings:
        return max(action.option_strings, key=len)
    metavar = action.metavar if isinstance(action.metavar, str) else None
    return (metavar or action.dest).upper()


def subcommands(
    parser: argparse.ArgumentParser, path: str
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """``(path, parser)`` for the parser and every subcommand below it, depth first."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from subcommands(sub, f"{path} {name}")


def options(parser: argparse.ArgumentParser, path: str) -> Iterator[Option]:
    """Every argument of the parser and its subcommands; a subcommand counts as one, too."""
    for command, sub in subcommands(parser, path):
        for action in sub._actions:
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:
                    yield Option(command, choice.dest, choice.help, choice)
            elif not isinstance(action, argparse._HelpAction):
                yield Option(command, _name(action), action.help, action)


ALL_COMMANDS = [*ENGINE_COMMANDS, *PLATFORM_COMMANDS]
