"""The one exception type the monitoring engine raises for bad input."""

from __future__ import annotations

__all__ = ["MonitoringInputError"]


class MonitoringInputError(ValueError):
    """Input the engine cannot use: wrong shape, constant or missing column, bad file.

    The message always names what is wrong: the variable, batch, row, column or file.
    """
