"""The verdict of a solution checker."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CheckReport:
    """What an independent solution checker found.

    Attributes
    ----------
    objective
        Objective recomputed from the solution alone.
    violations
        One line per violated constraint; empty when the solution is valid.
    """

    objective: float
    violations: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """Whether no constraint is violated."""
        return not self.violations


def objective_matches(reported: float, recomputed: float) -> bool:
    """Whether two objective values agree to ``1e-6 × max(1, |value|)``."""
    return abs(reported - recomputed) <= 1e-6 * max(1.0, abs(recomputed))
