"""Scale-up check: does a process fit a bioreactor, and if not, why.

Criteria
--------
- Oxygen: the maximum oxygen transfer rate (tip-speed-limited agitation, maximum sparge,
  pure oxygen, DO at set point) must exceed the peak oxygen uptake by a margin.
- Shear: the impeller tip speed needed to deliver that transfer must stay below the
  process limit (Nienow AW, Reactor engineering in large scale animal cell culture,
  Cytotechnology 50:9-33 (2006): tip speed is the usual conservative criterion).
- CO₂: steady-state pCO₂ at peak CO₂ evolution, with the sparge flow the DO cascade needs
  at maximum agitation (the smallest air flow meeting the demand, else the maximum flow
  with oxygen), must stay below the limit (Mostafa & Gu 2003; Zhu et al. 2005: growth
  and productivity fall above about 150 mmHg).
- Mixing: the 95 % mixing time at maximum agitation (Nienow 1997) must stay below a limit,
  beyond which pH and nutrient gradients near the feed and base ports matter.
- Volume: the initial fill must reach the minimum fill, the fed volume stay within the
  working volume.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from opencdmo.engines.bioprocess.errors import InvalidInputError
from opencdmo.engines.bioprocess.kinetics import KineticParameters
from opencdmo.engines.bioprocess.reactor import (
    AIR_SATURATION_MM,
    CO2_SOLUBILITY_MM_PER_MMHG,
    O2_SOLUBILITY_MM_PER_ATM,
    SURFACE_KL_M_H,
    Bioreactor,
    co2_stripping_rate_per_h,
    kla_o2_per_h,
    mixing_time_s,
)
from opencdmo.engines.bioprocess.recipe import ProcessRecipe

__all__ = ["ScaleUpReport", "scale_up_check"]


@dataclass(frozen=True)
class ScaleUpReport:
    """Outcome of :func:`scale_up_check`.

    Attributes
    ----------
    fits : bool
        Whether every criterion is met.
    reasons : tuple of str
        One sentence per criterion that fails (empty when it fits).
    peak_our_mmol_l_h : float
        Peak oxygen uptake rate assumed, mmol/(L·h).
    max_otr_mmol_l_h : float
        Maximum oxygen transfer rate of the vessel, mmol/(L·h).
    max_kla_per_h : float
        kLa at maximum agitation and sparge, h⁻¹.
    required_tip_speed_m_s : float
        Tip speed needed for the required oxygen transfer (inf when unreachable), m/s.
    max_power_per_volume_w_m3 : float
        Power per volume at maximum agitation, W/m³.
    peak_pco2_mmhg : float
        Steady-state pCO₂ at peak CO₂ evolution and the cascade's sparge flow, mmHg.
    mixing_time_s : float
        95 % mixing time at maximum agitation, s.
    initial_volume_l, final_volume_l : float
        Initial and planned final culture volume, L.
    """

    fits: bool
    reasons: tuple[str, ...]
    peak_our_mmol_l_h: float
    max_otr_mmol_l_h: float
    max_kla_per_h: float
    required_tip_speed_m_s: float
    max_power_per_volume_w_m3: float
    peak_pco2_mmhg: float
    mixing_time_s: float
    initial_volume_l: float
    final_volume_l: float


def scale_up_check(
    reactor: Bioreactor,
    recipe: ProcessRecipe | None = None,
    kinetics: KineticParameters | None = None,
    *,
    peak_vcd_e6_per_ml: float = 20.0,
    otr_margin: float = 1.2,
    max_tip_speed_m_s: float = 1.8,
    max_pco2_mmhg: float = 150.0,
    max_mixing_time_s: float = 180.0,
) -> ScaleUpReport:
    """Check whether a process fits a bioreactor.

    Parameters
    ----------
    reactor : Bioreactor
        Candidate vessel.
    recipe : ProcessRecipe, optional
        Process recipe (defaults to the nominal recipe).
    kinetics : KineticParameters, optional
        Kinetics (defaults to nominal), for qO₂ and the respiratory quotient.
    peak_vcd_e6_per_ml : float
        Peak viable cell density the process reaches, 10⁶ cells/mL.
    otr_margin : float
        Required ratio of maximum oxygen transfer to peak uptake, dimensionless.
    max_tip_speed_m_s : float
        Process shear limit on impeller tip speed, m/s.
    max_pco2_mmhg : float
        Highest acceptable pCO₂, mmHg.
    max_mixing_time_s : float
        Longest acceptable 95 % mixing time, s.

    Returns
    -------
    ScaleUpReport
        Verdict, reasons and the numbers behind them.

    Raises
    ------
    InvalidInputError
        For non-positive peak cell density, margin or limits.
    """
    recipe = recipe or ProcessRecipe()
    kinetics = kinetics or KineticParameters()
    for name, value in (
        ("peak_vcd_e6_per_ml", peak_vcd_e6_per_ml),
        ("otr_margin", otr_margin),
        ("max_tip_speed_m_s", max_tip_speed_m_s),
        ("max_pco2_mmhg", max_pco2_mmhg),
        ("max_mixing_time_s", max_mixing_time_s),
    ):
        if not math.isfinite(value) or value <= 0.0:
            raise InvalidInputError(name, f"must be a positive number, got {value!r}")
    reasons: list[str] = []
    v0 = recipe.initial_volume_l(reactor)
    v_final = recipe.planned_final_volume_l(reactor)
    if v0 < reactor.min_fill_fraction * reactor.working_volume_l:
        reasons.append(
            f"volume: initial fill {v0:.4g} L is below the minimum fill "
            f"{reactor.min_fill_fraction * reactor.working_volume_l:.4g} L"
        )
    if v_final > reactor.working_volume_l:
        reasons.append(
            f"volume: the fed culture reaches {v_final:.4g} L, beyond the working volume "
            f"{reactor.working_volume_l:g} L"
        )
    volume = min(max(v_final, v0), reactor.working_volume_l)
    pressure = reactor.mean_pressure_atm(volume)
    peak_our = kinetics.q_o2_pmol_per_cell_h * peak_vcd_e6_per_ml
    gas_slpm = reactor.max_gas_vvm * reactor.working_volume_l
    velocity = reactor.superficial_gas_velocity_m_s(gas_slpm)
    power = float(reactor.power_w(reactor.max_agitation_rpm))
    power_per_volume = power / (volume / 1000.0)
    kla_max = float(kla_o2_per_h(np.asarray(power_per_volume), velocity, reactor.kla_factor))
    driving_mm = (
        O2_SOLUBILITY_MM_PER_ATM * pressure - recipe.do_setpoint_pct / 100.0 * AIR_SATURATION_MM
    )
    max_otr = kla_max * driving_mm
    required_kla = otr_margin * peak_our / driving_mm
    if max_otr < otr_margin * peak_our:
        reasons.append(
            f"oxygen transfer: maximum OTR {max_otr:.2f} mmol/(L h) is below "
            f"{otr_margin:g} x peak OUR {peak_our:.2f} mmol/(L h) at "
            f"{peak_vcd_e6_per_ml:g}e6 cells/mL"
        )
    required_rpm = reactor.max_agitation_rpm * (required_kla / kla_max) ** (1.0 / 1.2)
    required_tip = float(reactor.tip_speed_m_s(required_rpm))
    if required_tip > max_tip_speed_m_s:
        reasons.append(
            f"tip speed: {required_tip:.2f} m/s is needed for the oxygen demand, above the "
            f"shear limit {max_tip_speed_m_s:g} m/s"
        )
    gas_op = _operating_gas_slpm(reactor, power_per_volume, pressure, peak_our, recipe)
    kla_op = float(
        kla_o2_per_h(
            np.asarray(power_per_volume),
            reactor.superficial_gas_velocity_m_s(gas_op),
            reactor.kla_factor,
        )
    )
    surface = SURFACE_KL_M_H * reactor.cross_section_m2 / (volume / 1000.0)
    strip = float(
        co2_stripping_rate_per_h(np.asarray(kla_op), np.asarray(gas_op), volume, pressure, surface)
    )
    peak_pco2 = kinetics.respiratory_quotient * peak_our / strip / CO2_SOLUBILITY_MM_PER_MMHG
    if peak_pco2 > max_pco2_mmhg:
        reasons.append(
            f"CO2: steady-state pCO2 at peak reaches {peak_pco2:.0f} mmHg at the "
            f"{gas_op / reactor.working_volume_l:.3f} vvm sparge the DO cascade uses, "
            f"above {max_pco2_mmhg:g} mmHg"
        )
    mixing = mixing_time_s(reactor, reactor.max_agitation_rpm, volume)
    if mixing > max_mixing_time_s:
        reasons.append(f"mixing: 95 % mixing time {mixing:.0f} s exceeds {max_mixing_time_s:g} s")
    return ScaleUpReport(
        fits=not reasons,
        reasons=tuple(reasons),
        peak_our_mmol_l_h=peak_our,
        max_otr_mmol_l_h=max_otr,
        max_kla_per_h=kla_max,
        required_tip_speed_m_s=required_tip,
        max_power_per_volume_w_m3=power_per_volume,
        peak_pco2_mmhg=peak_pco2,
        mixing_time_s=mixing,
        initial_volume_l=v0,
        final_volume_l=v_final,
    )


def _operating_gas_slpm(
    reactor: Bioreactor,
    power_per_volume_w_m3: float,
    pressure_atm: float,
    our_mmol_l_h: float,
    recipe: ProcessRecipe,
) -> float:
    """Sparge flow the DO cascade settles at for ``our_mmol_l_h`` at maximum agitation."""
    low = reactor.min_gas_vvm * reactor.working_volume_l
    high = reactor.max_gas_vvm * reactor.working_volume_l
    flows = np.linspace(max(low, 1e-6), high, 200)
    kla = kla_o2_per_h(
        np.full_like(flows, power_per_volume_w_m3),
        reactor.superficial_gas_velocity_m_s(flows),
        reactor.kla_factor,
    )
    air_driving = AIR_SATURATION_MM * (pressure_atm - recipe.do_setpoint_pct / 100.0)
    enough = kla * air_driving >= our_mmol_l_h
    return float(flows[np.argmax(enough)]) if enough.any() else high
