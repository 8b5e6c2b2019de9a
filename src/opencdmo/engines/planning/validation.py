"""Small checks shared by the problem dataclasses' ``__post_init__`` methods.

Every check raises :class:`InstanceError` with a path relative to the dataclass being
validated, so that a reader can prefix the JSON path of the object and the file name.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from opencdmo.engines.planning.errors import InstanceError

GRID_TOLERANCE = 1e-9


def require(condition: bool, path: str, reason: str) -> None:
    """Raise :class:`InstanceError` at ``path`` unless ``condition`` holds."""
    if not condition:
        raise InstanceError(path, reason)


def finite(value: float, path: str) -> None:
    """Require a finite real number (not NaN, not infinite, not a boolean)."""
    require(
        isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value),
        path,
        f"must be a finite number, got {value!r}",
    )


def at_least(value: float, minimum: float, path: str) -> None:
    """Require a finite number ``≥ minimum``."""
    finite(value, path)
    require(value >= minimum, path, f"must be ≥ {minimum:g}, got {value:g}")


def positive(value: float, path: str) -> None:
    """Require a finite number ``> 0``."""
    finite(value, path)
    require(value > 0, path, f"must be > 0, got {value:g}")


def whole(value: float, path: str) -> None:
    """Require a number with no fractional part."""
    finite(value, path)
    require(float(value).is_integer(), path, f"must be an integer, got {value:g}")


def name(value: str, path: str) -> None:
    """Require a non-empty string."""
    require(isinstance(value, str) and value != "", path, "must be a non-empty string")


def unique_names(names: Iterable[str], list_path: str, key: str = "name") -> None:
    """Require every name of a list to be distinct; the error names the second occurrence."""
    seen: set[str] = set()
    for index, item in enumerate(names):
        path = f"{list_path}[{index}].{key}" if key else f"{list_path}[{index}]"
        require(item not in seen, path, f"duplicate name {item!r}")
        seen.add(item)


def grid_steps(value_h: float, dt_h: float, path: str, minimum_steps: int = 0) -> int:
    """Convert a duration to a whole number of grid steps.

    Parameters
    ----------
    value_h
        Duration in hours.
    dt_h
        Grid step in hours.
    path
        Field path for the error message.
    minimum_steps
        Smallest number of steps allowed.

    Returns
    -------
    int
        ``value_h / dt_h`` as an integer.
    """
    finite(value_h, path)
    ratio = value_h / dt_h
    steps = round(ratio)
    require(
        abs(ratio - steps) <= GRID_TOLERANCE * max(1.0, abs(ratio)),
        path,
        f"must be a whole multiple of dt_h = {dt_h:g} h, got {value_h:g} h",
    )
    require(
        steps >= minimum_steps,
        path,
        f"must be at least {minimum_steps} grid step(s) of {dt_h:g} h, got {value_h:g} h",
    )
    return steps


def fractions_sum_to_one(fractions: Sequence[float], path: str) -> None:
    """Require mass fractions that sum to 1 within 1e-9."""
    total = math.fsum(fractions)
    require(abs(total - 1.0) <= 1e-9, path, f"fractions must sum to 1, they sum to {total:.12g}")
