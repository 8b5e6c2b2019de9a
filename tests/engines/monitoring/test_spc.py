"""Shewhart, EWMA, CUSUM charts, run rules and capability indices."""

from __future__ import annotations

import math

import numpy as np
import pytest

from opencdmo.engines.monitoring import MonitoringInputError
from opencdmo.engines.monitoring.spc import (
    c4,
    capability,
    cusum_chart,
    ewma_chart,
    individuals_chart,
    individuals_limits,
    run_rules,
    xbar_r_chart,
    xbar_s_chart,
)
from opencdmo.engines.monitoring.tables import column_as_float, read_table

from .conftest import BATCH


@pytest.fixture(scope="module")
def yields() -> np.ndarray:
    """Final yield of 241 batches."""
    return column_as_float(read_table(BATCH / "batch-yield-and-purity.csv"), "yield")


def test_individuals_chart_limits_on_batch_yields(yields: np.ndarray) -> None:
    """I-MR limits are mean ± 2.66·MR̄ and 3.267·MR̄ on the 241 batch yields."""
    i_chart, mr_chart = individuals_chart(yields)
    mr_bar = np.mean(np.abs(np.diff(yields)))
    assert i_chart.upper[0] == pytest.approx(yields.mean() + 2.660 * mr_bar, rel=1e-3)
    assert i_chart.lower[0] == pytest.approx(yields.mean() - 2.660 * mr_bar, rel=1e-3)
    assert mr_chart.upper[0] == pytest.approx(3.267 * mr_bar, rel=1e-3)
    assert mr_chart.lower[0] == 0.0
    assert i_chart.center[0] == pytest.approx(yields.mean())


def test_frozen_limits_come_from_the_validated_period(yields: np.ndarray) -> None:
    """Limits frozen from the first 100 batches do not move when later batches are charted."""
    frozen = individuals_limits(yields[:100])
    chart, _ = individuals_chart(yields[100:], limits=frozen)
    assert chart.center[0] == pytest.approx(yields[:100].mean())
    assert chart.upper[0] == pytest.approx(frozen.center + 3 * frozen.sigma)


def test_subgroup_chart_constants_match_the_tables() -> None:
    """For subgroups of 5: A2 = 0.577, D4 = 2.114, A3 = 1.427, B4 = 2.089, c4 = 0.9400."""
    rng = np.random.default_rng(0)
    data = rng.normal(10, 1, size=(30, 5))
    xbar, r_chart = xbar_r_chart(data)
    r_bar = np.ptp(data, axis=1).mean()
    assert xbar.upper[0] - xbar.center[0] == pytest.approx(0.577 * r_bar, rel=2e-3)
    assert r_chart.upper[0] == pytest.approx(2.114 * r_bar, rel=2e-3)
    assert r_chart.lower[0] == 0.0
    xbar_s, s_chart = xbar_s_chart(data)
    s_bar = data.std(axis=1, ddof=1).mean()
    assert xbar_s.upper[0] - xbar_s.center[0] == pytest.approx(1.427 * s_bar, rel=2e-3)
    assert s_chart.upper[0] == pytest.approx(2.089 * s_bar, rel=2e-3)
    assert c4(5) == pytest.approx(0.9400, abs=1e-4)


def test_western_electric_rules() -> None:
    """Each Western Electric rule fires on its own pattern and at its last point."""
    base = np.zeros(20)
    assert run_rules(np.r_[base, 3.5], 0, 1, ["we1"]) == {"we1": [20]}
    assert run_rules(np.r_[base, 2.5, 0.1, 2.4], 0, 1, ["we2"]) == {"we2": [22]}
    assert run_rules(np.r_[base, 1.5, 1.2, 0.1, 1.3, 1.1], 0, 1, ["we3"]) == {"we3": [24]}
    assert run_rules(np.r_[-np.ones(3), 0.5 * np.ones(8)], 0, 1, ["we4"]) == {"we4": [10]}


def test_nelson_rules() -> None:
    """Nelson trend, alternation, stratification and mixture rules fire on their patterns."""
    trend = np.r_[np.zeros(3), np.arange(6) * 0.1]
    assert run_rules(trend, 0, 1, ["nelson3"])["nelson3"] == [8]
    zigzag = np.array([0.5 if k % 2 else -0.5 for k in range(14)])
    assert run_rules(zigzag, 0, 1, ["nelson4"])["nelson4"] == [13]
    assert run_rules(zigzag[:13], 0, 1, ["nelson4"])["nelson4"] == []
    flat = np.r_[2.5, np.full(15, 0.2)]
    assert run_rules(flat, 0, 1, ["nelson7"])["nelson7"] == [15]
    mixture = np.array([1.5, -1.5] * 4)
    assert run_rules(mixture, 0, 1, ["nelson8"])["nelson8"] == [7]
    assert run_rules(np.r_[np.ones(9) * 0.3], 0, 1, ["nelson2"])["nelson2"] == [8]


def test_unknown_rule_is_named() -> None:
    """An unknown rule name is refused with the name."""
    with pytest.raises(MonitoringInputError, match="unknown run rule 'we9'"):
        run_rules(np.zeros(5), 0, 1, ["we9"])


def test_ewma_detects_a_small_shift_that_shewhart_misses() -> None:
    """A 1σ shift is flagged by EWMA (λ=0.2, L=3) while no point leaves the 3σ I-chart limits."""
    rng = np.random.default_rng(7)
    x = np.r_[rng.normal(0, 1, 50), rng.normal(1.0, 1, 50)]
    x = np.clip(x, -2.9, 2.9)
    chart = ewma_chart(x, lam=0.2, target=0.0, sigma=1.0)
    assert any(i >= 50 for i in chart.out_of_control)
    assert all(i >= 50 for i in chart.out_of_control)
    asymptote = 3 * math.sqrt(0.2 / 1.8)
    assert chart.upper[-1] == pytest.approx(asymptote, rel=1e-6)
    shewhart, _ = individuals_chart(x, rules=[])
    assert not np.any(np.abs(x) > 3.0)
    assert shewhart.upper[0] > 2.9


def test_cusum_accumulates_deviations_beyond_k() -> None:
    """C⁺ grows by x − (μ + kσ) and signals after h·σ."""
    x = np.r_[np.zeros(5), np.full(10, 1.5)]
    upper, lower = cusum_chart(x, k=0.5, h=5, target=0.0, sigma=1.0)
    np.testing.assert_allclose(upper.values[5:8], [1.0, 2.0, 3.0])
    assert upper.out_of_control[0] == 10
    assert lower.values.max() == 0.0


def test_capability_with_confidence_intervals(yields: np.ndarray) -> None:
    """Cp uses the moving-range sigma, Pp the sample SD; intervals bracket the estimates."""
    result = capability(yields, lsl=70.0, usl=95.0)
    sigma_within = np.mean(np.abs(np.diff(yields))) / 1.128
    assert result.cp is not None
    assert result.cp.value == pytest.approx(25.0 / (6 * sigma_within))
    assert result.pp is not None
    assert result.pp.value == pytest.approx(25.0 / (6 * yields.std(ddof=1)))
    assert result.cpk.low < result.cpk.value < result.cpk.high
    assert result.pp.low < result.pp.value < result.pp.high
    one_sided = capability(yields, lsl=70.0)
    assert one_sided.cp is None
    assert one_sided.ppk.value == pytest.approx((yields.mean() - 70.0) / (3 * yields.std(ddof=1)))


def test_capability_needs_a_specification(yields: np.ndarray) -> None:
    """Without specification limits, or with usl below lsl, capability is refused."""
    with pytest.raises(MonitoringInputError, match="at least one specification"):
        capability(yields)
    with pytest.raises(MonitoringInputError, match=r"usl \(60.0\) must be above lsl \(70.0\)"):
        capability(yields, lsl=70.0, usl=60.0)


def test_missing_observation_is_named() -> None:
    """A missing observation is refused with its position."""
    with pytest.raises(MonitoringInputError, match="observation 2 is missing"):
        individuals_chart([1.0, 2.0, float("nan"), 3.0])
