"""What text opencdmo accepts: no control characters but tab, newline and carriage return.

One definition for every way text comes in (API, pages, imported files, services).
Refused: U+0000 (PostgreSQL text cannot hold it), the other C0 controls U+0001–U+0008,
U+000B, U+000C, U+000E–U+001F, DEL U+007F, and the noncharacters U+FFFE and U+FFFF. They
never belong in a name, a reason or a note, and a stray one usually means a file saved in
the wrong encoding or a value pasted from a binary source.

This module imports nothing from Django, so the table reader (which engines use) can
apply it too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

__all__ = ["CONTROL_CHARACTERS", "check_text", "control_character_problem", "texts_in"]

CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
"""Characters no text field may hold."""


def control_character_problem(text: str) -> str | None:
    """'contains a control character (U+0000) at position 2', or None for acceptable text.

    The position counts characters from 1, as a person reading the value counts them.
    """
    found = CONTROL_CHARACTERS.search(text)
    if found is None:
        return None
    return (
        f"contains a control character (U+{ord(found.group()):04X}) at position {found.start() + 1}"
    )


def check_text(text: str) -> str:
    """``text`` unchanged, or ValueError saying which control character is where."""
    problem = control_character_problem(text)
    if problem is not None:
        raise ValueError(problem)
    return text


def texts_in(value: object) -> Iterator[str]:
    """Every string in ``value``, looking inside lists, tuples, sets and dict keys and values."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from texts_in(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from texts_in(key)
            yield from texts_in(item)
