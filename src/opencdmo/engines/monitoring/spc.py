"""Univariate statistical process control: Shewhart, EWMA and CUSUM charts, run rules,
capability indices.

Limits can be computed from the data charted or **frozen** from a validated period: compute
:class:`ChartLimits` once (``*_limits`` functions) and pass them to the chart functions.
Constants (d2, d3, c4) are those of Montgomery, *Introduction to Statistical Quality
Control*, Appendix VI.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .errors import MonitoringInputError

__all__ = [
    "NELSON_RULES",
    "WESTERN_ELECTRIC_RULES",
    "Capability",
    "ChartLimits",
    "ControlChart",
    "IntervalEstimate",
    "capability",
    "cusum_chart",
    "ewma_chart",
    "individuals_chart",
    "individuals_limits",
    "run_rules",
    "xbar_r_chart",
    "xbar_r_limits",
    "xbar_s_chart",
    "xbar_s_limits",
]

_D2 = {
    2: 1.128, 3: 1.693, 4: 2.059, 5: 2.326, 6: 2.534, 7: 2.704, 8: 2.847, 9: 2.970, 10: 3.078,
    11: 3.173, 12: 3.258, 13: 3.336, 14: 3.407, 15: 3.472, 16: 3.532, 17: 3.588, 18: 3.640,
    19: 3.689, 20: 3.735, 21: 3.778, 22: 3.819, 23: 3.858, 24: 3.895, 25: 3.931,
}  # fmt: skip
_D3 = {
    2: 0.853, 3: 0.888, 4: 0.880, 5: 0.864, 6: 0.848, 7: 0.833, 8: 0.820, 9: 0.808, 10: 0.797,
    11: 0.787, 12: 0.778, 13: 0.770, 14: 0.763, 15: 0.756, 16: 0.750, 17: 0.744, 18: 0.739,
    19: 0.734, 20: 0.729, 21: 0.724, 22: 0.720, 23: 0.716, 24: 0.712, 25: 0.708,
}  # fmt: skip

WESTERN_ELECTRIC_RULES = ("we1", "we2", "we3", "we4")
NELSON_RULES = tuple(f"nelson{k}" for k in range(1, 9))


def c4(n: int) -> float:
    """Bias-correction constant of the sample standard deviation for subgroups of ``n``."""
    return math.sqrt(2.0 / (n - 1)) * math.exp(math.lgamma(n / 2) - math.lgamma((n - 1) / 2))


def _subgroup_size(n: int) -> int:
    if n not in _D2:
        raise MonitoringInputError(f"subgroup size must be between 2 and 25; got {n}.")
    return n


@dataclass(frozen=True)
class ChartLimits:
    """Centre line and sigma of a chart and of its dispersion companion.

    Attributes
    ----------
    center : float
        Centre of the location chart.
    sigma : float
        Process standard deviation estimate (within subgroups / from moving ranges).
    dispersion_center : float
        Centre of the MR, R or S chart.
    subgroup_size : int
        1 for individuals.
    """

    center: float
    sigma: float
    dispersion_center: float
    subgroup_size: int


@dataclass(frozen=True)
class ControlChart:
    """A charted statistic with its limits and the rule violations found.

    Attributes
    ----------
    name : str
    values : numpy.ndarray
        The charted statistic.
    center : numpy.ndarray
    lower, upper : numpy.ndarray
        Control limits at each point.
    violations : dict of str to list of int
        Points at which each selected rule fires.
    """

    name: str
    values: np.ndarray
    center: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    violations: dict[str, list[int]] = field(default_factory=dict)

    @property
    def out_of_control(self) -> list[int]:
        """Points beyond the limits or flagged by any rule, sorted."""
        beyond = np.flatnonzero((self.values > self.upper) | (self.values < self.lower))
        flagged = set(beyond.tolist())
        for points in self.violations.values():
            flagged.update(points)
        return sorted(flagged)


def _vector(values: object, what: str = "values") -> np.ndarray:
    array = np.asarray(values, dtype=float).ravel()
    if array.size < 2:
        raise MonitoringInputError(f"{what}: at least two observations are needed.")
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise MonitoringInputError(f"{what}: observation {int(bad[0])} is missing or infinite.")
    return array


def _subgroups(values: object) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 2 or array.shape[0] < 2:
        raise MonitoringInputError(
            f"subgroups must be a 2-D array (subgroups × size) with at least 2 subgroups; got "
            f"shape {array.shape}."
        )
    _subgroup_size(array.shape[1])
    bad = np.argwhere(~np.isfinite(array))
    if bad.size:
        raise MonitoringInputError(f"subgroup {int(bad[0][0])} has a missing or infinite value.")
    return array


def individuals_limits(values: object) -> ChartLimits:
    """Limits of an individuals / moving-range chart from a validated period."""
    x = _vector(values)
    mr_bar = float(np.mean(np.abs(np.diff(x))))
    sigma = mr_bar / _D2[2]
    if sigma <= 0:
        raise MonitoringInputError("the values do not vary: no control limits can be set.")
    return ChartLimits(float(x.mean()), sigma, mr_bar, 1)


def _full(value: float, n: int) -> np.ndarray:
    return np.full(n, float(value))


def _chart(
    name: str,
    values: np.ndarray,
    center: float,
    sigma_of_point: float,
    rules: Sequence[str],
    *,
    lower: float | None = None,
    upper: float | None = None,
) -> ControlChart:
    n = values.shape[0]
    lcl = center - 3 * sigma_of_point if lower is None else lower
    ucl = center + 3 * sigma_of_point if upper is None else upper
    violations = run_rules(values, center, sigma_of_point, rules) if rules else {}
    return ControlChart(name, values, _full(center, n), _full(lcl, n), _full(ucl, n), violations)


def _dispersion_chart(name: str, values: np.ndarray, center: float, spread: float) -> ControlChart:
    """A range, moving-range or standard-deviation chart: limits ``center·(1 ± spread)``,
    the lower one never below zero, and no run rules (they assume symmetric points)."""
    n = values.shape[0]
    lower = max(0.0, center * (1 - spread))
    return ControlChart(
        name, values, _full(center, n), _full(lower, n), _full(center * (1 + spread), n)
    )


def _require_subgroup_size(limits: ChartLimits, size: int) -> None:
    """Frozen limits apply only to subgroups of the size they were computed for."""
    if limits.subgroup_size != size:
        raise MonitoringInputError(
            f"frozen limits are for subgroups of {limits.subgroup_size}, not {size}."
        )


def individuals_chart(
    values: object,
    limits: ChartLimits | None = None,
    rules: Sequence[str] = WESTERN_ELECTRIC_RULES,
) -> tuple[ControlChart, ControlChart]:
    """Individuals (I) and moving-range (MR) charts.

    Parameters
    ----------
    values : array-like
        Observations in time order.
    limits : ChartLimits, optional
        Frozen limits (from :func:`individuals_limits` on a validated period); default
        computed from ``values``.
    rules : sequence of str
        Run rules applied to the I chart (see :func:`run_rules`).
    """
    x = _vector(values)
    lim = individuals_limits(x) if limits is None else limits
    mr = np.concatenate([[np.nan], np.abs(np.diff(x))])
    i_chart = _chart("individuals", x, lim.center, lim.sigma, rules)
    mr_chart = _dispersion_chart("moving range", mr, lim.dispersion_center, 3 * _D3[2] / _D2[2])
    return i_chart, mr_chart


def xbar_r_limits(subgroups: object) -> ChartLimits:
    """X̄–R limits from validated subgroups (rows of equal size 2–25)."""
    data = _subgroups(subgroups)
    n = data.shape[1]
    r_bar = float(np.mean(np.ptp(data, axis=1)))
    return ChartLimits(float(data.mean()), r_bar / _D2[n], r_bar, n)


def xbar_r_chart(
    subgroups: object,
    limits: ChartLimits | None = None,
    rules: Sequence[str] = WESTERN_ELECTRIC_RULES,
) -> tuple[ControlChart, ControlChart]:
    """X̄ and R charts of subgroups (rows)."""
    data = _subgroups(subgroups)
    n = data.shape[1]
    lim = xbar_r_limits(data) if limits is None else limits
    _require_subgroup_size(lim, n)
    means = data.mean(axis=1)
    xbar = _chart("xbar", means, lim.center, lim.sigma / math.sqrt(n), rules)
    ranges = np.ptp(data, axis=1)
    r_chart = _dispersion_chart("range", ranges, lim.dispersion_center, 3 * _D3[n] / _D2[n])
    return xbar, r_chart


def xbar_s_limits(subgroups: object) -> ChartLimits:
    """X̄–S limits from validated subgroups."""
    data = _subgroups(subgroups)
    n = data.shape[1]
    s_bar = float(np.mean(data.std(axis=1, ddof=1)))
    return ChartLimits(float(data.mean()), s_bar / c4(n), s_bar, n)


def xbar_s_chart(
    subgroups: object,
    limits: ChartLimits | None = None,
    rules: Sequence[str] = WESTERN_ELECTRIC_RULES,
) -> tuple[ControlChart, ControlChart]:
    """X̄ and S charts of subgroups (rows)."""
    data = _subgroups(subgroups)
    n = data.shape[1]
    lim = xbar_s_limits(data) if limits is None else limits
    _require_subgroup_size(lim, n)
    means = data.mean(axis=1)
    xbar = _chart("xbar", means, lim.center, lim.sigma / math.sqrt(n), rules)
    c = c4(n)
    sds = data.std(axis=1, ddof=1)
    s_chart = _dispersion_chart(
        "standard deviation", sds, lim.dispersion_center, 3 * math.sqrt(1 - c * c) / c
    )
    return xbar, s_chart


def _target_and_sigma(
    x: np.ndarray, target: float | None, sigma: float | None
) -> tuple[float, float]:
    estimate = individuals_limits(x) if target is None or sigma is None else None
    mu = float(target) if target is not None else estimate.center if estimate else 0.0
    sd = float(sigma) if sigma is not None else estimate.sigma if estimate else 0.0
    if sd <= 0:
        raise MonitoringInputError(f"sigma must be positive; got {sd}.")
    return mu, sd


def ewma_chart(
    values: object,
    lam: float = 0.2,
    width: float = 3.0,
    target: float | None = None,
    sigma: float | None = None,
) -> ControlChart:
    """Exponentially weighted moving average chart with exact (time-varying) limits.

    Parameters
    ----------
    values : array-like
        Observations.
    lam : float
        Smoothing constant λ in (0, 1].
    width : float
        Limit width L in sigmas of the EWMA statistic.
    target, sigma : float, optional
        In-control mean and standard deviation; default the mean and the moving-range
        sigma of ``values`` (pass frozen values for monitoring).
    """
    x = _vector(values)
    if not 0 < lam <= 1:
        raise MonitoringInputError(f"lam must be in (0, 1]; got {lam}.")
    mu, sd = _target_and_sigma(x, target, sigma)
    z = np.empty_like(x)
    previous = mu
    for t, value in enumerate(x):
        previous = lam * value + (1 - lam) * previous
        z[t] = previous
    steps = np.arange(1, x.size + 1)
    half = width * sd * np.sqrt(lam / (2 - lam) * (1 - (1 - lam) ** (2 * steps)))
    return ControlChart("ewma", z, _full(mu, x.size), mu - half, mu + half)


def cusum_chart(
    values: object,
    k: float = 0.5,
    h: float = 5.0,
    target: float | None = None,
    sigma: float | None = None,
) -> tuple[ControlChart, ControlChart]:
    """Tabular CUSUM: upper ``C⁺`` and lower ``C⁻`` sums with decision interval ``h·σ``.

    Parameters
    ----------
    values : array-like
    k : float
        Reference value in sigmas (0.5 detects a 1σ shift fastest).
    h : float
        Decision interval in sigmas.
    target, sigma : float, optional
        In-control mean and standard deviation; default estimated from ``values``.
    """
    x = _vector(values)
    mu, sd = _target_and_sigma(x, target, sigma)
    upper = np.empty_like(x)
    lower = np.empty_like(x)
    cu = cl = 0.0
    for t, value in enumerate(x):
        cu = max(0.0, value - (mu + k * sd) + cu)
        cl = max(0.0, (mu - k * sd) - value + cl)
        upper[t], lower[t] = cu, cl
    zeros = np.zeros(x.size)
    decision = _full(h * sd, x.size)
    return (
        ControlChart("cusum upper", upper, zeros, _full(-np.inf, x.size), decision),
        ControlChart("cusum lower", lower, zeros, _full(-np.inf, x.size), decision),
    )


def _k_of_m(condition: np.ndarray, k: int, m: int) -> list[int]:
    hits = []
    for end in range(m - 1, condition.size):
        if condition[end] and condition[end - m + 1 : end + 1].sum() >= k:
            hits.append(end)
    return hits


def _run(condition: np.ndarray, length: int) -> list[int]:
    hits, count = [], 0
    for index, flag in enumerate(condition):
        count = count + 1 if flag else 0
        if count >= length:
            hits.append(index)
    return hits


def run_rules(
    values: object, center: float, sigma: float, rules: Sequence[str] = WESTERN_ELECTRIC_RULES
) -> dict[str, list[int]]:
    """Points at which each run rule fires (the last point of the pattern).

    Western Electric: ``we1`` one point beyond 3σ; ``we2`` 2 of 3 beyond 2σ on one side;
    ``we3`` 4 of 5 beyond 1σ on one side; ``we4`` 8 in a row on one side.
    Nelson: ``nelson1`` beyond 3σ; ``nelson2`` 9 in a row on one side; ``nelson3`` 6 in a
    row increasing or decreasing; ``nelson4`` 14 in a row alternating up and down;
    ``nelson5`` 2 of 3 beyond 2σ on one side; ``nelson6`` 4 of 5 beyond 1σ on one side;
    ``nelson7`` 15 in a row within 1σ; ``nelson8`` 8 in a row beyond 1σ on either side.
    """
    x = np.asarray(values, dtype=float)
    if sigma <= 0:
        raise MonitoringInputError(f"sigma must be positive; got {sigma}.")
    z = (x - center) / sigma
    above, below = z > 0, z < 0
    step = np.diff(z)
    rising = np.concatenate([[False], step > 0])
    falling = np.concatenate([[False], step < 0])
    alternating = np.concatenate([[False, False], np.sign(step[1:]) * np.sign(step[:-1]) < 0])

    def one_side(k: int, m: int, level: float) -> list[int]:
        return sorted(set(_k_of_m(z > level, k, m)) | set(_k_of_m(z < -level, k, m)))

    def same_side(length: int) -> list[int]:
        return sorted(set(_run(above, length)) | set(_run(below, length)))

    table = {
        "we1": lambda: np.flatnonzero(np.abs(z) > 3).tolist(),
        "we2": lambda: one_side(2, 3, 2.0),
        "we3": lambda: one_side(4, 5, 1.0),
        "we4": lambda: same_side(8),
        "nelson1": lambda: np.flatnonzero(np.abs(z) > 3).tolist(),
        "nelson2": lambda: same_side(9),
        "nelson3": lambda: sorted(set(_run(rising, 5)) | set(_run(falling, 5))),
        "nelson4": lambda: _run(alternating, 12),
        "nelson5": lambda: one_side(2, 3, 2.0),
        "nelson6": lambda: one_side(4, 5, 1.0),
        "nelson7": lambda: _run(np.abs(z) < 1, 15),
        "nelson8": lambda: _run(np.abs(z) > 1, 8),
    }
    unknown = [r for r in rules if r not in table]
    if unknown:
        raise MonitoringInputError(
            f"unknown run rule {unknown[0]!r}; choose from {', '.join(table)}."
        )
    return {rule: table[rule]() for rule in rules}


@dataclass(frozen=True)
class IntervalEstimate:
    """A point estimate with a two-sided confidence interval."""

    value: float
    low: float
    high: float


@dataclass(frozen=True)
class Capability:
    """Process capability and performance indices with confidence intervals.

    ``cp``/``cpk`` use the within (short-term) sigma, ``pp``/``ppk`` the overall sample
    standard deviation. One-sided specifications give ``cp``/``pp`` as ``None``.
    """

    n: int
    mean: float
    sigma_within: float
    sigma_overall: float
    cp: IntervalEstimate | None
    cpk: IntervalEstimate
    pp: IntervalEstimate | None
    ppk: IntervalEstimate
    confidence: float


def _ratio_interval(value: float, dof: int, confidence: float) -> IntervalEstimate:
    from scipy.stats import chi2

    alpha = 1 - confidence
    return IntervalEstimate(
        value,
        value * math.sqrt(chi2.ppf(alpha / 2, dof) / dof),
        value * math.sqrt(chi2.ppf(1 - alpha / 2, dof) / dof),
    )


def _bissell_interval(value: float, n: int, confidence: float) -> IntervalEstimate:
    from scipy.stats import norm

    half = norm.ppf(0.5 + confidence / 2) * math.sqrt(1 / (9 * n) + value**2 / (2 * (n - 1)))
    return IntervalEstimate(value, value - half, value + half)


def capability(
    values: object,
    lsl: float | None = None,
    usl: float | None = None,
    confidence: float = 0.95,
    subgroup_size: int = 1,
) -> Capability:
    """Cp, Cpk, Pp and Ppk with confidence intervals.

    Parameters
    ----------
    values : array-like
        Observations in time order (rows of subgroups when ``subgroup_size`` > 1 and the
        array is 2-D).
    lsl, usl : float, optional
        Specification limits; at least one.
    confidence : float
        Level of the intervals: chi-square for Cp and Pp, Bissell (1990) for Cpk and Ppk.
    subgroup_size : int
        1: within sigma from the average moving range; otherwise from R̄/d2 of the rows.
    """
    if lsl is None and usl is None:
        raise MonitoringInputError("give at least one specification limit (lsl or usl).")
    if lsl is not None and usl is not None and not usl > lsl:
        raise MonitoringInputError(f"usl ({usl}) must be above lsl ({lsl}).")
    if subgroup_size > 1:
        data = _subgroups(np.asarray(values, dtype=float).reshape(-1, subgroup_size))
        x = data.ravel()
        sigma_within = xbar_r_limits(data).sigma
    else:
        x = _vector(values)
        sigma_within = individuals_limits(x).sigma
    n = x.size
    mean = float(x.mean())
    sigma_overall = float(x.std(ddof=1))
    if sigma_overall <= 0:
        raise MonitoringInputError("the values do not vary: capability is undefined.")

    def indices(sigma: float) -> tuple[float | None, float]:
        sides = []
        if usl is not None:
            sides.append((usl - mean) / (3 * sigma))
        if lsl is not None:
            sides.append((mean - lsl) / (3 * sigma))
        spread = (usl - lsl) / (6 * sigma) if usl is not None and lsl is not None else None
        return spread, min(sides)

    cp, cpk = indices(sigma_within)
    pp, ppk = indices(sigma_overall)
    return Capability(
        n=n,
        mean=mean,
        sigma_within=sigma_within,
        sigma_overall=sigma_overall,
        cp=None if cp is None else _ratio_interval(cp, n - 1, confidence),
        cpk=_bissell_interval(cpk, n, confidence),
        pp=None if pp is None else _ratio_interval(pp, n - 1, confidence),
        ppk=_bissell_interval(ppk, n, confidence),
        confidence=confidence,
    )
