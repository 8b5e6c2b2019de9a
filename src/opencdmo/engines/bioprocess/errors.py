"""Errors raised by the bioprocess simulator."""

from __future__ import annotations

__all__ = ["IntegrationError", "InvalidInputError"]


class InvalidInputError(ValueError):
    """An impossible setting, naming the parameter and the reason.

    Parameters
    ----------
    parameter : str
        Dotted name of the offending parameter, e.g. ``"recipe.initial_volume_l"``.
    reason : str
        Why the value cannot be used.
    """

    def __init__(self, parameter: str, reason: str) -> None:
        super().__init__(f"{parameter}: {reason}")
        self.parameter = parameter
        self.reason = reason


class IntegrationError(RuntimeError):
    """The integration left the physical domain (negative or non-finite state).

    Parameters
    ----------
    batch_id : str
        Batch whose state failed.
    time_h : float
        Culture time at the end of the failing step, in hours.
    variable : str
        Name of the state that failed.
    value : float
        Its value at that time.
    """

    def __init__(self, batch_id: str, time_h: float, variable: str, value: float) -> None:
        super().__init__(
            f"integration failed for batch {batch_id} at t = {time_h:.3f} h: "
            f"{variable} = {value:.6g} left the physical domain (negative or not finite); "
            "reduce the control step or check the kinetic parameters"
        )
        self.batch_id = batch_id
        self.time_h = time_h
        self.variable = variable
        self.value = value
