"""Small server-rendered SVG trajectories, one per variable, for the batch page."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

WIDTH, HEIGHT, PAD = 240, 48, 3
MAX_POINTS = 240
"""A trajectory keeps at most one point per horizontal pixel; more would not show."""


@dataclass(frozen=True)
class Trajectory:
    """A polyline's ``points`` attribute and the ranges it spans."""

    points: str
    low: float
    high: float
    start_h: float
    end_h: float
    width: int = WIDTH
    height: int = HEIGHT


def trajectory(time_h: np.ndarray, values: np.ndarray) -> Trajectory | None:
    """The measured values of one variable over time, scaled into a small box."""
    seen = ~np.isnan(values)
    t, y = time_h[seen], values[seen]
    if t.size < 2:
        return None
    if t.size > MAX_POINTS:
        pick = np.linspace(0, t.size - 1, MAX_POINTS).round().astype(int)
        t, y = t[pick], y[pick]
    t0, t1 = float(t.min()), float(t.max())
    low, high = float(y.min()), float(y.max())
    span_t = t1 - t0 or 1.0
    span_y = high - low or 1.0
    x = PAD + (t - t0) / span_t * (WIDTH - 2 * PAD)
    h = HEIGHT - PAD - (y - low) / span_y * (HEIGHT - 2 * PAD)
    points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(x.tolist(), h.tolist(), strict=True))
    if not all(math.isfinite(v) for v in (low, high)):
        return None
    return Trajectory(points, low, high, t0, t1)
