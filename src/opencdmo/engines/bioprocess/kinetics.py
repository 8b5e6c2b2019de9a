"""Unstructured CHO kinetics: growth, death, uptake and production rates.

Cell densities are in 10⁶ cells/mL (numerically equal to 10⁹ cells/L), metabolite
concentrations in mM, so a specific rate in pmol/(cell·h) multiplied by a cell density gives
mM/h. Product rates in pg/(cell·h) times cell density give mg/(L·h).

Sources
-------
[X10] Xing Z, Bishop N, Leister K, Li ZJ. Modeling kinetics of a large-scale fed-batch CHO
      cell culture by Markov chain Monte Carlo method. Biotechnol Prog 26(1):208-219 (2010),
      5,000 L fed-batch, doi:10.1002/btpr.284.
[B18] Bioengineering 5(1):25 (2018), Table 2, doi:10.3390/bioengineering5010025: Monod model
      of CHO fed-batch with the [X10] constants and experimentally fitted μmax, kd, Kglc,
      Y_X/glc, Y_lac/glc and q_mAb.
[Z05] Zhu MM, Goldstein J, Alam D et al. Effects of elevated pCO2 and osmolality on growth of
      CHO cells and production of antibody-fusion protein B1. Biotechnol Prog 21:70-77 (2005).
[G11] Goudar CT, Piret JM, Konstantinov KB. Estimating cell specific oxygen uptake and carbon
      dioxide production rates for mammalian cells in perfusion culture. Biotechnol Prog
      27:1347-1357 (2011): qO2 0.1-0.4 pmol/(cell·h), respiratory quotient near 1.
[K10] Kontoravdi C, Pistikopoulos EN, Mantalaris A. Systematic development of predictive
      mathematical models for animal cell cultures. Comput Chem Eng 34:1192-1198 (2010):
      temperature-shift effects (slower growth, higher specific productivity).
[M17] Mulukutla BC, Kale J, Kalomeris T, Jacobs M, Hiller GW. Identification and control of
      novel growth inhibitors in fed-batch cultures of Chinese hamster ovary cells.
      Biotechnol Bioeng 114:1779-1790 (2017): amino-acid catabolites other than lactate and
      ammonium accumulate with cell mass and stop growth; modelled as one lumped inhibitor.
[O90] Ozturk SS, Palsson BO. Chemical decomposition of glutamine in cell culture media.
      Biotechnol Prog 6:121-128 (1990): first-order, about 0.1 d⁻¹ at 37 °C.
Values marked "calibrated" were chosen so that the nominal recipe reproduces the industrial
ranges reported for platform CHO fed-batch (peak 10-25 × 10⁶ cells/mL, 1-6 g/L at day 14).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from opencdmo.engines.bioprocess.errors import InvalidInputError

__all__ = ["EnvironmentFactors", "KineticParameters", "environment_factors"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class KineticParameters:
    """Kinetic constants of the CHO mAb model, with units in each name.

    Attributes
    ----------
    mu_max_per_h : float
        Maximum specific growth rate at 37 °C before inhibition, h⁻¹ ([B18]: 0.039;
        calibrated 0.055 because the pH, pCO₂, ammonium and lactate terms act from day 1,
        giving the observed 0.025-0.035 h⁻¹ in the growth phase).
    k_glc_mm, k_gln_mm : float
        Monod constants for glucose ([B18]: 1.0 mM) and glutamine ([X10]: 0.047 mM).
    ki_lac_mm, ki_amm_mm : float
        Growth inhibition constants for lactate (43 mM) and ammonium (6.51 mM) [X10].
    kd_base_per_h : float
        Death rate in an unstressed culture, h⁻¹ (calibrated; [B18] max 0.004).
    kd_tox_per_h : float
        Additional death rate at saturating lactate and ammonium, h⁻¹ (calibrated).
    kd_lac_mm, kd_amm_mm : float
        Half-saturation of death by lactate (45.8 mM) and ammonium (6.51 mM) [X10].
    kd_starve_per_h : float
        Death rate added when glucose is exhausted, h⁻¹ (calibrated).
    q_inhibitor_pmol_per_cell_h : float
        Formation of the lumped growth inhibitor [M17], pmol/(cell·h) (calibrated).
    ki_inhibitor_mm, inhibitor_hill : float
        Inhibitor concentration halving growth, mM, and Hill coefficient (calibrated).
    kd_inhibitor_per_h, kd_inhibitor_mm : float
        Maximum death rate caused by the inhibitor and its half-saturation (calibrated).
    k_lysis_per_h : float
        First-order lysis of dead cells, h⁻¹ (calibrated; keeps harvest viability realistic).
    y_x_glc_e9cells_per_mmol : float
        Cell yield on glucose, 10⁹ cells/mmol ([B18]: 0.357).
    y_x_gln_e9cells_per_mmol : float
        Cell yield on glutamine, 10⁹ cells/mmol ([X10]: 0.974; calibrated 2.0 for a
        low-glutamine platform process, keeping ammonium at 3-5 mM).
    m_glc_pmol_per_cell_h : float
        Glucose maintenance coefficient, pmol/(cell·h) ([X10]: 0.0692; calibrated lower to
        match 3-6 g/(L·d) uptake at peak).
    a1_gln_pmol_per_cell_h, a2_gln_mm : float
        Glutamine maintenance ``a1·Gln/(a2 + Gln)`` ([X10]: 0.0032 pmol/(cell·h), 2.1 mM).
    y_lac_glc : float
        Lactate formed per glucose taken up for growth, mol/mol ([B18]: 0.70).
    q_lac_uptake_pmol_per_cell_h : float
        Maximum lactate consumption after the metabolic shift, pmol/(cell·h) (calibrated).
    k_lac_uptake_mm : float
        Half-saturation of lactate consumption, mM (calibrated).
    y_amm_gln : float
        Ammonium formed per glutamine consumed, mol/mol ([X10]: 0.67).
    r_amm_pmol_per_cell_h : float
        Maximum ammonium removal rate, pmol/(cell·h) ([X10]: 0.0063; calibrated 0.003).
    k_gln_degradation_per_h : float
        Spontaneous glutamine decomposition to ammonium, h⁻¹ ([O90]: about 0.1 d⁻¹).
    qp_pg_per_cell_h : float
        Specific antibody productivity at 37 °C, pg/(cell·h) ([B18]: 1.51; calibrated 1.0).
    qp_temperature_gain_per_c : float
        Relative rise of qp per °C below 37 °C ([K10]; calibrated 0.12).
    q_o2_pmol_per_cell_h : float
        Specific oxygen uptake rate, pmol/(cell·h) ([G11]: 0.1-0.4).
    respiratory_quotient : float
        CO₂ evolved per O₂ consumed, mol/mol ([G11]: about 0.9-1.0).
    k_o2_mm : float
        Oxygen half-saturation, mM (about 1 % air saturation).
    growth_temp_width_low_c, growth_temp_width_high_c : float
        Widths of the growth-temperature response below and above 37 °C, °C ([K10]: growth
        at 33 °C is about 40 % of growth at 37 °C).
    metabolic_temp_slope_per_c : float
        Relative fall of uptake rates per °C below 37 °C (calibrated; Q10 near 2).
    death_temp_slope_per_c : float
        Relative fall of death rate per °C below 37 °C (calibrated).
    ph_optimum, ph_width : float
        Gaussian growth response to pH (optimum 7.05, width 0.5 pH units).
    pco2_inhibition_mmhg : float
        pCO₂ halving growth, mmHg ([Z05]: growth falls markedly above 150 mmHg; the
        response is ``1/(1 + (pCO₂/K)²)``).
    osmolality_inhibition_mosm_kg, osmolality_width_mosm_kg : float
        Logistic growth inhibition by osmolality, mOsm/kg ([Z05]: strong above 450).
    """

    mu_max_per_h: float = 0.055
    k_glc_mm: float = 1.0
    k_gln_mm: float = 0.047
    ki_lac_mm: float = 43.0
    ki_amm_mm: float = 6.51
    kd_base_per_h: float = 0.0005
    kd_tox_per_h: float = 0.004
    kd_lac_mm: float = 45.8
    kd_amm_mm: float = 6.51
    kd_starve_per_h: float = 0.02
    q_inhibitor_pmol_per_cell_h: float = 0.005
    ki_inhibitor_mm: float = 5.0
    inhibitor_hill: float = 4.0
    kd_inhibitor_per_h: float = 0.0015
    kd_inhibitor_mm: float = 10.0
    k_lysis_per_h: float = 0.008
    y_x_glc_e9cells_per_mmol: float = 0.357
    y_x_gln_e9cells_per_mmol: float = 2.0
    m_glc_pmol_per_cell_h: float = 0.035
    a1_gln_pmol_per_cell_h: float = 0.0032
    a2_gln_mm: float = 2.1
    y_lac_glc: float = 0.70
    q_lac_uptake_pmol_per_cell_h: float = 0.03
    k_lac_uptake_mm: float = 4.0
    y_amm_gln: float = 0.67
    r_amm_pmol_per_cell_h: float = 0.003
    k_gln_degradation_per_h: float = 0.004
    qp_pg_per_cell_h: float = 1.0
    qp_temperature_gain_per_c: float = 0.12
    q_o2_pmol_per_cell_h: float = 0.25
    respiratory_quotient: float = 0.9
    k_o2_mm: float = 0.002
    growth_temp_width_low_c: float = 4.2
    growth_temp_width_high_c: float = 2.5
    metabolic_temp_slope_per_c: float = 0.06
    death_temp_slope_per_c: float = 0.15
    ph_optimum: float = 7.05
    ph_width: float = 0.5
    pco2_inhibition_mmhg: float = 300.0
    osmolality_inhibition_mosm_kg: float = 480.0
    osmolality_width_mosm_kg: float = 25.0

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if not np.isfinite(value) or value < 0.0:
                raise InvalidInputError(
                    f"kinetics.{field.name}", f"must be a finite non-negative number, got {value!r}"
                )
        for name in ("y_x_glc_e9cells_per_mmol", "y_x_gln_e9cells_per_mmol", "ph_width"):
            if getattr(self, name) == 0.0:
                raise InvalidInputError(f"kinetics.{name}", "must be positive, got 0")


class EnvironmentFactors(NamedTuple):
    """Multipliers of the culture environment held constant over one control step.

    Attributes
    ----------
    growth : ndarray
        Multiplier of μmax (temperature, pH, DO, pCO₂, osmolality), dimensionless.
    metabolism : ndarray
        Multiplier of uptake rates (temperature), dimensionless.
    death : ndarray
        Multiplier of death rates (temperature), dimensionless.
    productivity : ndarray
        Multiplier of qp (temperature shift), dimensionless.
    oxygen : ndarray
        Oxygen limitation ``DO/(K_O2 + DO)``, dimensionless.
    """

    growth: FloatArray
    metabolism: FloatArray
    death: FloatArray
    productivity: FloatArray
    oxygen: FloatArray


def environment_factors(
    params: KineticParameters,
    temperature_c: FloatArray,
    ph: FloatArray,
    do_mm: FloatArray,
    pco2_mmhg: FloatArray,
    osmolality_mosm_kg: FloatArray,
) -> EnvironmentFactors:
    """Evaluate the environmental multipliers of the rates for each batch.

    Parameters
    ----------
    params : KineticParameters
        Kinetic constants.
    temperature_c : ndarray
        Culture temperature, °C.
    ph : ndarray
        True culture pH.
    do_mm : ndarray
        Dissolved oxygen, mM.
    pco2_mmhg : ndarray
        Dissolved CO₂ as partial pressure, mmHg.
    osmolality_mosm_kg : ndarray
        Osmolality, mOsm/kg.

    Returns
    -------
    EnvironmentFactors
        Dimensionless multipliers, one value per batch.
    """
    below = np.maximum(37.0 - temperature_c, 0.0)
    above = np.maximum(temperature_c - 37.0, 0.0)
    f_temp = np.exp(
        -((below / params.growth_temp_width_low_c) ** 2)
        - (above / params.growth_temp_width_high_c) ** 2
    )
    f_ph = np.exp(-(((ph - params.ph_optimum) / params.ph_width) ** 2))
    oxygen = np.maximum(do_mm, 0.0) / (params.k_o2_mm + np.maximum(do_mm, 0.0))
    f_co2 = 1.0 / (1.0 + (np.maximum(pco2_mmhg, 0.0) / params.pco2_inhibition_mmhg) ** 2)
    f_osm = 1.0 / (
        1.0
        + np.exp(
            (osmolality_mosm_kg - params.osmolality_inhibition_mosm_kg)
            / params.osmolality_width_mosm_kg
        )
    )
    metabolism = np.clip(1.0 - params.metabolic_temp_slope_per_c * below, 0.2, None) * (
        1.0 + 0.1 * above
    )
    death = np.exp(-params.death_temp_slope_per_c * below) * (1.0 + 0.5 * above**2)
    productivity = 1.0 + params.qp_temperature_gain_per_c * below
    return EnvironmentFactors(
        growth=f_temp * f_ph * oxygen * f_co2 * f_osm,
        metabolism=metabolism,
        death=death,
        productivity=productivity,
        oxygen=oxygen,
    )
