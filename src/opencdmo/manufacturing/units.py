"""The units a variable may be written in and how each converts to another of its kind.

Units are kept as written. When a file gives a variable in a unit other than the one the
batch (or the site's tag mapping) already holds it in, the value converts only between
units of one kind in this small table; anything else is refused rather than guessed.
"""

from __future__ import annotations

__all__ = ["CONVERSIONS", "converter", "same_unit"]

_ALIASES = {"degc": "°C", "°c": "°C", "c": "°C", "deg c": "°C", "k": "K", "kelvin": "K"}

CONVERSIONS: dict[str, tuple[str, float, float]] = {
    # unit: (kind, factor, offset): value in the kind's base = value * factor + offset
    "°C": ("temperature", 1.0, 0.0),
    "K": ("temperature", 1.0, -273.15),
    "g/L": ("concentration", 1.0, 0.0),
    "mg/mL": ("concentration", 1.0, 0.0),
    "mg/L": ("concentration", 0.001, 0.0),
    "h": ("time", 1.0, 0.0),
    "min": ("time", 1.0 / 60.0, 0.0),
    "%": ("fraction", 1.0, 0.0),
    "L": ("volume", 1.0, 0.0),
    "mL": ("volume", 0.001, 0.0),
    "rpm": ("speed", 1.0, 0.0),
}
"""Each unit's kind, and the factor and offset that take a value to the kind's base unit."""


def _canonical(unit: str) -> str:
    text = unit.strip()
    return _ALIASES.get(text.lower(), text)


def same_unit(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` are spellings of one unit (``degC`` and ``°C``)."""
    return _canonical(a) == _canonical(b)


def converter(source: str, target: str) -> tuple[float, float] | None:
    """``(factor, offset)`` with ``target = source * factor + offset``, or ``None`` when the
    units are of different kinds or not in the table."""
    a, b = _canonical(source), _canonical(target)
    if a == b:
        return 1.0, 0.0
    if a not in CONVERSIONS or b not in CONVERSIONS:
        return None
    kind_a, factor_a, offset_a = CONVERSIONS[a]
    kind_b, factor_b, offset_b = CONVERSIONS[b]
    if kind_a != kind_b:
        return None
    return factor_a / factor_b, (offset_a - offset_b) / factor_b
