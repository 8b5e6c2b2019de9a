"""Strict, path-aware access to the fields of a parsed JSON instance document.

Readers use these helpers to check JSON types, missing keys and unknown keys; range and
consistency rules live in the problem dataclasses. Every failure raises
:class:`InstanceError` naming the JSON path and the reason.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any, TypeVar

from opencdmo.engines.planning.errors import InstanceError


def join(path: str, key: str | int) -> str:
    """Return the JSON path of ``key`` inside the value at ``path``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _reject_constant(token: str) -> float:
    raise ValueError(f"{token} is not allowed")


def load_document(path: Path | str) -> dict[str, Any]:
    """Read a UTF-8 JSON file whose top level is an object.

    Parameters
    ----------
    path
        The file to read.

    Returns
    -------
    dict
        The parsed document.

    Raises
    ------
    InstanceError
        When the file cannot be read, is not JSON, contains ``NaN``/``Infinity`` or its top
        level is not an object.
    """
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InstanceError("", f"cannot read file: {error}", source) from error
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except ValueError as error:
        raise InstanceError("", f"not valid JSON: {error}", source) from error
    if not isinstance(document, dict):
        raise InstanceError("", "the top level must be a JSON object", source)
    return document


def obj(value: Any, path: str) -> dict[str, Any]:
    """Require a JSON object."""
    if not isinstance(value, dict):
        raise InstanceError(path, f"must be an object, got {type_name(value)}")
    return value


def keys(
    value: dict[str, Any], path: str, required: Collection[str], optional: Collection[str] = ()
) -> None:
    """Require every key of ``required`` and reject keys outside ``required ∪ optional``."""
    for key in value:
        if key not in required and key not in optional:
            raise InstanceError(join(path, key), "unknown key")
    for key in required:
        if key not in value:
            raise InstanceError(join(path, key), "missing required key")


def type_name(value: Any) -> str:
    """Name a JSON value's type the way JSON does."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def number(value: Any, path: str, *, nullable: bool = False) -> float | None:
    """Require a JSON number (or ``null`` when ``nullable``) and return it as a float."""
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        expected = "a number or null" if nullable else "a number"
        raise InstanceError(path, f"must be {expected}, got {type_name(value)}")
    if not math.isfinite(value):
        raise InstanceError(path, "must be finite")
    return float(value)


def real(value: Any, path: str) -> float:
    """Require a JSON number."""
    result = number(value, path)
    assert result is not None
    return result


def integer(value: Any, path: str) -> int:
    """Require a JSON number with no fractional part (``4`` or ``4.0``)."""
    result = real(value, path)
    if not result.is_integer():
        raise InstanceError(path, f"must be an integer, got {result:g}")
    return int(result)


IDENTIFIER = re.compile(r"[a-z0-9_.-]+")


def identifier(value: Any, path: str) -> str:
    """Require an instance identifier: a string of ``[a-z0-9_.-]+``."""
    text = string(value, path)
    if not IDENTIFIER.fullmatch(text):
        raise InstanceError(path, f"must match [a-z0-9_.-]+, got {text!r}")
    return text


def string(value: Any, path: str) -> str:
    """Require a JSON string."""
    if not isinstance(value, str):
        raise InstanceError(path, f"must be a string, got {type_name(value)}")
    return value


def boolean(value: Any, path: str) -> bool:
    """Require a JSON boolean."""
    if not isinstance(value, bool):
        raise InstanceError(path, f"must be true or false, got {type_name(value)}")
    return value


def array(value: Any, path: str, min_items: int = 0) -> list[Any]:
    """Require a JSON array with at least ``min_items`` entries."""
    if not isinstance(value, list):
        raise InstanceError(path, f"must be an array, got {type_name(value)}")
    if len(value) < min_items:
        raise InstanceError(
            path, f"must have at least {min_items} entr{'y' if min_items == 1 else 'ies'}"
        )
    return value


def format_tag(document: dict[str, Any], expected: str) -> None:
    """Require ``document["format"] == expected``."""
    if "format" not in document:
        raise InstanceError("format", "missing required key")
    if document["format"] != expected:
        raise InstanceError("format", f"must be {expected!r}, got {document['format']!r}")


def conventions(value: Any, path: str, expected: dict[str, Any]) -> None:
    """Require a conventions object equal to ``expected``, key for key."""
    block = obj(value, path)
    keys(block, path, expected.keys())
    for key, wanted in expected.items():
        got = block[key]
        if type(got) is not type(wanted) or got != wanted:
            raise InstanceError(
                join(path, key), f"must be {json.dumps(wanted)}, got {json.dumps(got)}"
            )


T = TypeVar("T")


def construct(cls: Callable[..., T], path: str, **fields: Any) -> T:
    """Call ``cls(**fields)`` and locate any validation error under ``path``."""
    try:
        return cls(**fields)
    except InstanceError as error:
        raise error.within(path) from None
