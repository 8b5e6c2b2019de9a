"""Online sensors and offline assays: variables, units and measurement errors.

Noise levels follow typical specifications: temperature RTD ±0.05 °C, pH electrode 0.01,
optical DO 0.5 % air saturation, mass-flow controllers 1 % of reading, load cell 0.1 %,
off-gas OUR 3 %; cell counter 5 % CV, viability ±1 %, metabolite analyser 3-5 % CV,
Protein A HPLC titer 4 % CV, freezing-point osmometer ±3 mOsm/kg, blood-gas analyser pH
±0.02 and pCO₂/pO₂ 4 % CV.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["OFFLINE_ASSAYS", "ONLINE_SENSORS", "Measurement"]


@dataclass(frozen=True)
class Measurement:
    """One measured variable.

    Attributes
    ----------
    name : str
        Variable name in the long-format output.
    unit : str
        Unit of the value.
    absolute_sd : float
        Standard deviation of the additive error, in ``unit``.
    relative_sd : float
        Standard deviation of the multiplicative error, fraction of the value.
    decimals : int
        Resolution of the reported value.
    """

    name: str
    unit: str
    absolute_sd: float
    relative_sd: float
    decimals: int


ONLINE_SENSORS: tuple[Measurement, ...] = (
    Measurement("temperature_c", "degC", 0.05, 0.0, 2),
    Measurement("jacket_temperature_c", "degC", 0.1, 0.0, 2),
    Measurement("ph", "pH", 0.01, 0.0, 3),
    Measurement("do_pct", "% air sat", 0.5, 0.0, 2),
    Measurement("agitation_rpm", "rpm", 0.3, 0.002, 1),
    Measurement("air_flow_slpm", "L/min", 0.0, 0.01, 4),
    Measurement("o2_flow_slpm", "L/min", 0.0, 0.01, 4),
    Measurement("co2_flow_slpm", "L/min", 0.0, 0.01, 4),
    Measurement("base_added_l", "L", 0.0, 0.002, 5),
    Measurement("feed_added_l", "L", 0.0, 0.002, 5),
    Measurement("volume_l", "L", 0.0, 0.001, 4),
    Measurement("our_mmol_l_h", "mmol/(L h)", 0.02, 0.03, 4),
)

OFFLINE_ASSAYS: tuple[Measurement, ...] = (
    Measurement("vcd_e6_per_ml", "1e6 cells/mL", 0.0, 0.05, 3),
    Measurement("viability_pct", "%", 1.0, 0.0, 1),
    Measurement("glucose_g_l", "g/L", 0.02, 0.03, 3),
    Measurement("glutamine_mm", "mM", 0.02, 0.05, 3),
    Measurement("lactate_g_l", "g/L", 0.02, 0.03, 3),
    Measurement("ammonium_mm", "mM", 0.05, 0.05, 3),
    Measurement("titer_g_l", "g/L", 0.01, 0.04, 3),
    Measurement("osmolality_mosm_kg", "mOsm/kg", 3.0, 0.0, 0),
    Measurement("ph_offline", "pH", 0.02, 0.0, 3),
    Measurement("pco2_mmhg", "mmHg", 0.5, 0.04, 1),
    Measurement("po2_mmhg", "mmHg", 0.5, 0.04, 1),
)
