"""Server-drawn SVG charts of the monitoring pages: a trajectory in its reference envelope,
and a statistic against its limit with a clickable point per sample.

As ``scheduling.gantt``: no script, no ``style`` attribute, only presentation attributes, so
a chart holds under the strict Content-Security-Policy; every text is escaped. A point links
to the page showing the contributions at that sample (a plain link: htmx leaves clicks in an
SVG alone).
"""

from __future__ import annotations

from html import escape

import numpy as np

WIDTH, HEIGHT = 640, 170
LEFT, RIGHT, TOP, BOTTOM = 52, 10, 12, 26
INK, MUTED, GRID, LINE, BAND, LIMIT, ALARM = (
    "#1d2733", "#5d6b7a", "#dde3ea", "#2b6cb0", "#e3ecf7", "#b3261e", "#b3261e",
)  # fmt: skip
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif"


def _scale(low: float, high: float) -> tuple[float, float]:
    if not np.isfinite(low) or not np.isfinite(high):
        return 0.0, 1.0
    if high <= low:
        return low - 1.0, high + 1.0
    pad = (high - low) * 0.05
    return low - pad, high + pad


class _Frame:
    def __init__(self, x_max: float, low: float, high: float) -> None:
        self.x_max = x_max or 1.0
        self.low, self.high = _scale(low, high)

    def x(self, values: np.ndarray) -> np.ndarray:
        return LEFT + np.asarray(values) / self.x_max * (WIDTH - LEFT - RIGHT)

    def y(self, values: np.ndarray) -> np.ndarray:
        span = self.high - self.low
        return HEIGHT - BOTTOM - (np.asarray(values) - self.low) / span * (HEIGHT - TOP - BOTTOM)

    def polyline(self, x: np.ndarray, y: np.ndarray, colour: str, width: float = 1.5) -> str:
        keep = np.isfinite(y)
        if keep.sum() < 2:
            return ""
        points = " ".join(
            f"{a:.1f},{b:.1f}" for a, b in zip(self.x(x[keep]), self.y(y[keep]), strict=True)
        )
        return f'<polyline fill="none" stroke="{colour}" stroke-width="{width}" points="{points}"/>'

    def axes(self, label: str) -> str:
        parts = [
            f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" '
            f'y2="{HEIGHT - BOTTOM}" stroke="{GRID}"/>',
            f'<text x="{LEFT - 4}" y="{TOP + 8}" text-anchor="end" font-size="10" '
            f'fill="{MUTED}">{self.high:.3g}</text>',
            f'<text x="{LEFT - 4}" y="{HEIGHT - BOTTOM}" text-anchor="end" font-size="10" '
            f'fill="{MUTED}">{self.low:.3g}</text>',
            f'<text x="{LEFT}" y="{HEIGHT - 8}" font-size="10" fill="{MUTED}">0 h</text>',
            f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 8}" text-anchor="end" font-size="10" '
            f'fill="{MUTED}">{self.x_max:.0f} h</text>',
            f'<text x="{LEFT + 4}" y="{TOP + 8}" font-size="11" fill="{INK}">{escape(label)}</text>',
        ]
        return "".join(parts)


def _svg(body: str, label: str, testid: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(label)}" '
        f'font-family="{escape(FONT)}" data-testid="{escape(testid)}">{body}</svg>'
    )


def envelope_chart(
    label: str,
    hours: np.ndarray,
    mean: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    time_h: np.ndarray | None = None,
    values: np.ndarray | None = None,
) -> str:
    """One variable: the reference mean ± its limits over the batch, and the batch so far."""
    seen = [low, high] + ([values] if values is not None and values.size else [])
    stacked = np.concatenate([np.asarray(v, dtype=float).ravel() for v in seen])
    frame = _Frame(float(hours[-1]), float(np.nanmin(stacked)), float(np.nanmax(stacked)))
    band_x = np.concatenate([frame.x(hours), frame.x(hours[::-1])])
    band_y = np.concatenate([frame.y(high), frame.y(low[::-1])])
    band = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(band_x, band_y, strict=True))
    body = [
        f'<polygon points="{band}" fill="{BAND}" stroke="none"/>',
        frame.polyline(hours, mean, MUTED, 1.0),
    ]
    if time_h is not None and values is not None:
        body.append(frame.polyline(time_h, values, LINE, 1.8))
    body.append(frame.axes(label))
    return _svg("".join(body), f"{label}: batch against the reference envelope", "envelope")


def statistic_chart(
    label: str,
    hours_total: float,
    time_h: np.ndarray,
    values: np.ndarray,
    limits: np.ndarray,
    link: str = "",
) -> str:
    """A statistic per sample against its (time-varying) limit; points above it in red,
    each point a link to ``link`` with ``{n}`` replaced by its sample number."""
    finite = np.concatenate([values[np.isfinite(values)], limits[np.isfinite(limits)]])
    top = float(np.percentile(finite, 99)) if finite.size else 1.0
    top = max(top, float(np.max(limits)) * 1.3 if limits.size else 1.0)
    frame = _Frame(hours_total, 0.0, top)
    shown = np.minimum(values, frame.high)
    body = [
        frame.polyline(time_h, limits, LIMIT, 1.0),
        frame.polyline(time_h, shown, LINE, 1.4),
    ]
    xs, ys = frame.x(time_h), frame.y(shown)
    for n, (x, y) in enumerate(zip(xs, ys, strict=True)):
        above = values[n] > limits[n]
        dot = (
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{3.2 if above else 2.2}" '
            f'fill="{ALARM if above else LINE}"><title>{time_h[n]:.1f} h: {values[n]:.3g} '
            f"(limit {limits[n]:.3g})</title></circle>"
        )
        if link:
            href = escape(link.replace("{n}", str(n)))
            dot = f'<a href="{href}" data-sample="{n}">{dot}</a>'
        body.append(dot)
    body.append(frame.axes(label))
    return _svg("".join(body), f"{label} against its limit", f"chart-{label.lower()}")


def band_chart(
    label: str,
    hours_total: float,
    time_h: np.ndarray,
    values: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
) -> str:
    """A prediction over the batch with its interval."""
    stacked = np.concatenate([low, high, values])
    frame = _Frame(hours_total, float(np.nanmin(stacked)), float(np.nanmax(stacked)))
    band_x = np.concatenate([frame.x(time_h), frame.x(time_h[::-1])])
    band_y = np.concatenate([frame.y(high), frame.y(low[::-1])])
    band = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(band_x, band_y, strict=True))
    body = [
        f'<polygon points="{band}" fill="{BAND}" stroke="none"/>',
        frame.polyline(time_h, values, LINE, 1.8),
        frame.axes(label),
    ]
    return _svg("".join(body), f"{label} predicted at the end of the batch", "prediction")
