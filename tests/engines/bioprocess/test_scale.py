"""Transport correlations, CO2 stripping at scale and the scale-up check."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from opencdmo.engines.bioprocess.errors import InvalidInputError
from opencdmo.engines.bioprocess.reactor import (
    bioreactor,
    co2_stripping_rate_per_h,
    kla_o2_per_h,
    mixing_time_s,
)
from opencdmo.engines.bioprocess.scale import scale_up_check
from opencdmo.engines.bioprocess.simulator import BatchSpec, simulate
from opencdmo.engines.bioprocess.variability import NO_VARIATION


def test_kla_follows_the_van_t_riet_exponents() -> None:
    """Doubling P/V multiplies kLa by 2^0.4; doubling gas velocity by 2^0.5."""
    base = kla_o2_per_h(np.array([50.0]), np.array([0.002]), 1.0)[0]
    assert kla_o2_per_h(np.array([100.0]), np.array([0.002]), 1.0)[0] / base == pytest.approx(
        2**0.4
    )
    assert kla_o2_per_h(np.array([50.0]), np.array([0.004]), 1.0)[0] / base == pytest.approx(2**0.5)
    assert 10.0 < base < 40.0


def test_co2_stripping_per_volume_worsens_with_scale() -> None:
    """At equal vvm pressure lowers removal; at the maximum sparge it falls by over a third."""
    same_vvm: list[float] = []
    max_sparge: list[float] = []
    for volume in (2.0, 200.0, 2000.0, 20000.0):
        reactor = bioreactor(volume, "stainless")
        pressure = reactor.mean_pressure_atm(volume)
        for rates, vvm in ((same_vvm, 0.02), (max_sparge, reactor.max_gas_vvm)):
            gas = np.array([vvm * volume])
            rates.append(
                float(co2_stripping_rate_per_h(np.array([10.0]), gas, volume, pressure, 0.0)[0])
            )
    assert all(a > b for a, b in itertools.pairwise(same_vvm))
    assert all(a > b for a, b in itertools.pairwise(max_sparge))
    assert max_sparge[0] > 1.5 * max_sparge[-1]


def test_mixing_time_grows_with_scale() -> None:
    """Mixing time at maximum agitation is seconds at 2 L and about a minute at 20,000 L."""
    times = [
        mixing_time_s(r, r.max_agitation_rpm, r.working_volume_l)
        for r in (bioreactor(v) for v in (2.0, 200.0, 2000.0, 20000.0))
    ]
    assert times == sorted(times)
    assert times[0] < 10.0
    assert 40.0 < times[-1] < 180.0


def test_nominal_process_fits_every_scale_and_pco2_rises_with_scale() -> None:
    """The nominal process fits 2-20,000 L; predicted peak pCO2 grows with volume."""
    reports = [scale_up_check(bioreactor(v, "stainless")) for v in (2.0, 2000.0, 20000.0)]
    assert all(r.fits and not r.reasons for r in reports)
    pco2 = [r.peak_pco2_mmhg for r in reports]
    assert pco2 == sorted(pco2)
    assert pco2[-1] > 1.5 * pco2[0]


def test_scale_up_check_says_why_a_process_does_not_fit() -> None:
    """An intensified process (60e6 cells/mL) fails on oxygen transfer and tip speed."""
    report = scale_up_check(bioreactor(2000.0), peak_vcd_e6_per_ml=60.0)
    assert not report.fits
    assert any(r.startswith("oxygen transfer:") for r in report.reasons)
    assert any(r.startswith("tip speed:") for r in report.reasons)
    assert report.max_otr_mmol_l_h < 1.2 * report.peak_our_mmol_l_h


def test_scale_up_check_reports_co2_and_mixing_limits() -> None:
    """Tight pCO2 and mixing limits fail at 20,000 L with the numbers in the reason."""
    report = scale_up_check(bioreactor(20000.0), max_pco2_mmhg=20.0, max_mixing_time_s=30.0)
    assert not report.fits
    kinds = {reason.split(":")[0] for reason in report.reasons}
    assert kinds == {"CO2", "mixing"}


def test_scale_up_check_rejects_a_non_positive_cell_density() -> None:
    """Bad check parameters name themselves."""
    with pytest.raises(InvalidInputError, match="peak_vcd_e6_per_ml"):
        scale_up_check(bioreactor(200.0), peak_vcd_e6_per_ml=0.0)


def test_bench_and_production_scale_runs_stay_in_range() -> None:
    """The process at 2 L single-use and 20,000 L stainless stays in range; probes at scale
    are noisier because of the longer mixing time."""
    results = simulate(
        [
            BatchSpec("bench", bioreactor(2.0), variation=NO_VARIATION),
            BatchSpec("production", bioreactor(20000.0, "stainless"), variation=NO_VARIATION),
        ]
    )
    for result in results:
        assert 10.0 <= result.true["vcd_e6_per_ml"].max() <= 25.0
        assert 1.0 <= result.true["titer_g_l"][-1] <= 6.0
        after = result.time_h >= 48.0
        assert abs(result.online["do_pct"][after].mean() - 40.0) < 0.5
    bench, production = results
    assert production.online["agitation_rpm"].max() < bench.online["agitation_rpm"].min()
    noise = [np.std(r.online["ph"] - r.true["ph"]) for r in results]
    assert noise[1] > 1.3 * noise[0]
    assert noise[0] == pytest.approx(0.01, rel=0.15)
