"""Bioreactor geometry and transport: power, kLa, CO₂ stripping, mixing time, heat-up.

Sources
-------
[vR79] van 't Riet K. Review of measuring methods and results in nonviscous gas-liquid mass
       transfer in stirred vessels. Ind Eng Chem Process Des Dev 18:357-364 (1979):
       kLa = 0.026 (P/V)^0.4 vs^0.5 s⁻¹ for coalescing media, P/V in W/m³, vs in m/s.
[N97]  Nienow AW. On impeller circulation and mixing effectiveness in the turbulent flow
       regime. Chem Eng Sci 52:2557-2565 (1997): θ95 = 5.9 T^(2/3) ε^(-1/3) (D/T)^(-1/3).
[M98]  Mostafa SS, Gu X. Strategies for improved dCO2 removal in large-scale fed-batch
       cultures. Biotechnol Prog 19:45-51 (2003): CO₂ removal is limited by the gas flow once
       bubbles saturate, which is why pCO₂ rises at scale.
Solubilities: CO₂ 0.0307 mM/mmHg (Henderson-Hasselbalch constant at 37 °C), O₂ 0.95 mM/atm
in medium at 37 °C (0.20 mM at air saturation). Surface aeration: liquid-side coefficient
0.036 m/h (1e-5 m/s) times the free surface.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from opencdmo.engines.bioprocess.errors import InvalidInputError

__all__ = [
    "AIR_SATURATION_MM",
    "CO2_SOLUBILITY_MM_PER_MMHG",
    "O2_SOLUBILITY_MM_PER_ATM",
    "SURFACE_KL_M_H",
    "Bioreactor",
    "ReactorKind",
    "bioreactor",
    "co2_stripping_rate_per_h",
    "kla_o2_per_h",
    "mixing_time_s",
]

FloatArray = NDArray[np.float64]
ReactorKind = Literal["single_use", "stainless"]

CO2_SOLUBILITY_MM_PER_MMHG = 0.0307
O2_SOLUBILITY_MM_PER_ATM = 0.95
AIR_SATURATION_MM = 0.20
SURFACE_KL_M_H = 0.036
MMHG_PER_ATM = 760.0
MOLAR_GAS_VOLUME_L = 22.414
WATER_DENSITY_KG_M3 = 1000.0
MIN_VOLUME_L = 2.0
MAX_VOLUME_L = 20_000.0
KLA_CO2_TO_O2 = 0.89
MAX_GAS_VELOCITY_M_S = 0.0035


@dataclass(frozen=True)
class Bioreactor:
    """A stirred-tank bioreactor, geometry fixed at its working volume.

    Attributes
    ----------
    working_volume_l : float
        Maximum working (liquid) volume, L; 2-20,000 L.
    kind : {"single_use", "stainless"}
        Construction, which sets the defaults below through :func:`bioreactor`.
    aspect_ratio : float
        Liquid height over tank diameter at working volume, dimensionless.
    impeller_to_tank_ratio : float
        Impeller diameter over tank diameter, dimensionless.
    power_number : float
        Ungassed power number of one impeller, dimensionless.
    impellers : int
        Number of impellers on the shaft.
    max_tip_speed_m_s : float
        Highest allowed impeller tip speed (shear limit), m/s.
    min_tip_speed_m_s : float
        Lowest tip speed the agitation cascade uses, m/s.
    min_gas_vvm, max_gas_vvm : float
        Range of total sparge flow, vessel volumes per minute.
    overpressure_bar : float
        Headspace gauge pressure, bar.
    kla_factor : float
        Factor on the van 't Riet water correlation for culture medium with surfactant
        (Pluronic F-68 lowers kLa by 30-50 %) and the sparger, dimensionless.
    min_fill_fraction : float
        Smallest liquid volume the vessel can be operated at, fraction of working volume.
    """

    working_volume_l: float
    kind: ReactorKind = "single_use"
    aspect_ratio: float = 1.5
    impeller_to_tank_ratio: float = 0.35
    power_number: float = 1.5
    impellers: int = 1
    max_tip_speed_m_s: float = 1.6
    min_tip_speed_m_s: float = 0.8
    min_gas_vvm: float = 0.01
    max_gas_vvm: float = 0.1
    overpressure_bar: float = 0.02
    kla_factor: float = 0.7
    min_fill_fraction: float = 0.2

    def __post_init__(self) -> None:
        _check_working_volume(self.working_volume_l)
        if self.kind not in ("single_use", "stainless"):
            raise InvalidInputError(
                "reactor.kind", f"must be 'single_use' or 'stainless', got {self.kind!r}"
            )
        positive = (
            "aspect_ratio",
            "impeller_to_tank_ratio",
            "power_number",
            "max_tip_speed_m_s",
            "min_tip_speed_m_s",
            "max_gas_vvm",
            "kla_factor",
        )
        for name in positive:
            value = getattr(self, name)
            if not math.isfinite(value) or value <= 0.0:
                raise InvalidInputError(f"reactor.{name}", f"must be positive, got {value!r}")
        if self.impellers < 1:
            raise InvalidInputError(
                "reactor.impellers", f"must be at least 1, got {self.impellers}"
            )
        if self.min_tip_speed_m_s > self.max_tip_speed_m_s:
            raise InvalidInputError(
                "reactor.min_tip_speed_m_s", "must not exceed reactor.max_tip_speed_m_s"
            )
        if not 0.0 <= self.min_gas_vvm <= self.max_gas_vvm:
            raise InvalidInputError(
                "reactor.min_gas_vvm", "must lie between 0 and reactor.max_gas_vvm"
            )
        if self.overpressure_bar < 0.0:
            raise InvalidInputError("reactor.overpressure_bar", "must not be negative")
        if not 0.0 < self.min_fill_fraction < 1.0:
            raise InvalidInputError("reactor.min_fill_fraction", "must lie between 0 and 1")

    @property
    def tank_diameter_m(self) -> float:
        """Tank diameter, m, from working volume and aspect ratio."""
        return (4.0 * self.working_volume_l / 1000.0 / (math.pi * self.aspect_ratio)) ** (1 / 3)

    @property
    def cross_section_m2(self) -> float:
        """Tank cross-section, m²."""
        return math.pi / 4.0 * self.tank_diameter_m**2

    @property
    def impeller_diameter_m(self) -> float:
        """Impeller diameter, m."""
        return self.impeller_to_tank_ratio * self.tank_diameter_m

    @property
    def max_agitation_rpm(self) -> float:
        """Agitation at the tip-speed limit, rpm."""
        return 60.0 * self.max_tip_speed_m_s / (math.pi * self.impeller_diameter_m)

    @property
    def min_agitation_rpm(self) -> float:
        """Lowest agitation used by the DO cascade, rpm."""
        return 60.0 * self.min_tip_speed_m_s / (math.pi * self.impeller_diameter_m)

    @property
    def heat_time_constant_h(self) -> float:
        """First-order time constant of the jacket temperature loop, h (grows as V^(1/3))."""
        return 0.15 * (self.working_volume_l / 2.0) ** (1 / 3)

    def liquid_height_m(self, volume_l: float) -> float:
        """Liquid height at ``volume_l`` litres, m."""
        return volume_l / 1000.0 / self.cross_section_m2

    def mean_pressure_atm(self, volume_l: float) -> float:
        """Mean absolute pressure in the liquid (headspace plus half the hydrostatic head), atm."""
        hydrostatic_bar = WATER_DENSITY_KG_M3 * 9.81 * self.liquid_height_m(volume_l) / 1e5
        return (1.01325 + self.overpressure_bar + 0.5 * hydrostatic_bar) / 1.01325

    def power_w(self, agitation_rpm: FloatArray | float) -> FloatArray:
        """Ungassed impeller power, W, ``n·Np·ρ·N³·D⁵``."""
        n_rps = np.asarray(agitation_rpm, dtype=float) / 60.0
        return (
            self.impellers
            * self.power_number
            * WATER_DENSITY_KG_M3
            * n_rps**3
            * self.impeller_diameter_m**5
        )

    def tip_speed_m_s(self, agitation_rpm: FloatArray | float) -> FloatArray:
        """Impeller tip speed, m/s."""
        return np.asarray(agitation_rpm, dtype=float) / 60.0 * math.pi * self.impeller_diameter_m

    def superficial_gas_velocity_m_s(self, gas_flow_slpm: FloatArray | float) -> FloatArray:
        """Superficial gas velocity of a total sparge flow ``gas_flow_slpm`` (L/min), m/s."""
        return np.asarray(gas_flow_slpm, dtype=float) / 1000.0 / 60.0 / self.cross_section_m2


def _check_working_volume(volume_l: float) -> None:
    if not math.isfinite(volume_l) or volume_l <= 0.0:
        raise InvalidInputError(
            "reactor.working_volume_l", f"must be a positive volume in L, got {volume_l!r}"
        )
    if not MIN_VOLUME_L <= volume_l <= MAX_VOLUME_L:
        raise InvalidInputError(
            "reactor.working_volume_l",
            f"{volume_l:g} L is outside the modelled range {MIN_VOLUME_L:g}-{MAX_VOLUME_L:,.0f} L",
        )


def bioreactor(working_volume_l: float, kind: ReactorKind = "single_use") -> Bioreactor:
    """Build a bioreactor with the typical geometry of its kind.

    Parameters
    ----------
    working_volume_l : float
        Working volume, L (2-20,000).
    kind : {"single_use", "stainless"}
        Single-use bag (pitched-blade impeller, drilled-hole sparger, low overpressure) or
        stainless steel tank (two impellers, open-pipe sparger, 0.3 bar overpressure).

    Returns
    -------
    Bioreactor
        The vessel.

    Raises
    ------
    InvalidInputError
        For a volume that is not positive or outside 2-20,000 L.
    """
    _check_working_volume(working_volume_l)
    if kind == "stainless":
        return Bioreactor(
            working_volume_l=working_volume_l,
            kind="stainless",
            aspect_ratio=1.8,
            impeller_to_tank_ratio=0.40,
            power_number=1.7,
            impellers=2,
            max_tip_speed_m_s=2.0,
            min_tip_speed_m_s=0.9,
            overpressure_bar=0.3,
            kla_factor=0.6,
            max_gas_vvm=_max_gas_vvm(working_volume_l, 1.8),
        )
    impellers = 1 if working_volume_l < 200.0 else 2
    return Bioreactor(
        working_volume_l=working_volume_l,
        kind=kind,
        impellers=impellers,
        max_gas_vvm=_max_gas_vvm(working_volume_l, 1.5),
    )


def _max_gas_vvm(working_volume_l: float, aspect_ratio: float) -> float:
    """Largest sparge, vvm: 0.1, or less where superficial velocity would pass 3.5 mm/s.

    Above a few mm/s foaming and entrainment limit large vessels, so large tanks run at
    lower vvm than bench reactors; that is one reason pCO₂ accumulates at scale.
    """
    height_m = (working_volume_l / 1000.0) / (
        math.pi / 4.0 * (4.0 * working_volume_l / 1000.0 / (math.pi * aspect_ratio)) ** (2 / 3)
    )
    return min(0.1, MAX_GAS_VELOCITY_M_S * 60.0 / height_m)


def kla_o2_per_h(
    power_per_volume_w_m3: FloatArray, gas_velocity_m_s: FloatArray, kla_factor: float | FloatArray
) -> FloatArray:
    """Oxygen volumetric mass-transfer coefficient, h⁻¹ ([vR79], coalescing medium).

    Parameters
    ----------
    power_per_volume_w_m3 : ndarray
        Impeller power per liquid volume, W/m³.
    gas_velocity_m_s : ndarray
        Superficial gas velocity, m/s.
    kla_factor : float or ndarray
        Sparger/medium factor, dimensionless.

    Returns
    -------
    ndarray
        kLa for O₂, h⁻¹.
    """
    return (
        kla_factor
        * 0.026
        * np.maximum(power_per_volume_w_m3, 0.0) ** 0.4
        * np.maximum(gas_velocity_m_s, 0.0) ** 0.5
        * 3600.0
    )


def co2_stripping_rate_per_h(
    kla_o2: FloatArray,
    gas_flow_slpm: FloatArray,
    volume_l: FloatArray | float,
    pressure_atm: FloatArray | float,
    surface_rate_per_h: FloatArray | float,
) -> FloatArray:
    """First-order CO₂ removal constant by sparge gas and surface aeration, h⁻¹.

    The sparge gas leaves with a CO₂ fraction ``y_out = C/(α P)·(1 - exp(-NTU))``, where
    ``NTU = kLa_CO2·V·α·P/G``; removal per volume is ``G·y_out/V`` ([M98]). At large scale
    the bubbles saturate (NTU ≫ 1) and removal is capped by the gas flow per volume, which
    falls with scale while hydrostatic pressure rises: pCO₂ accumulates.

    Parameters
    ----------
    kla_o2 : ndarray
        Oxygen kLa, h⁻¹ (CO₂ kLa is 0.89 of it, ratio of square-root diffusivities).
    gas_flow_slpm : ndarray
        Total sparge flow, standard L/min.
    volume_l : ndarray or float
        Liquid volume, L.
    pressure_atm : ndarray or float
        Mean absolute pressure in the liquid, atm.
    surface_rate_per_h : ndarray or float
        Removal through the liquid surface, h⁻¹.

    Returns
    -------
    ndarray
        Removal constant k such that dC/dt = -k (C - C_gas), h⁻¹.
    """
    gas_mol_h = np.maximum(gas_flow_slpm, 1e-9) * 60.0 / MOLAR_GAS_VOLUME_L
    capacity_mm = CO2_SOLUBILITY_MM_PER_MMHG * MMHG_PER_ATM * pressure_atm
    gas_capacity_per_h = gas_mol_h * 1000.0 / (np.asarray(volume_l) * capacity_mm)
    ntu = KLA_CO2_TO_O2 * kla_o2 / gas_capacity_per_h
    return gas_capacity_per_h * -np.expm1(-ntu) + surface_rate_per_h


def mixing_time_s(reactor: Bioreactor, agitation_rpm: float, volume_l: float) -> float:
    """95 % mixing time, s ([N97], scaled linearly with the liquid aspect ratio).

    Parameters
    ----------
    reactor : Bioreactor
        The vessel.
    agitation_rpm : float
        Agitation, rpm.
    volume_l : float
        Liquid volume, L.

    Returns
    -------
    float
        Time to 95 % homogeneity, s.
    """
    epsilon_w_kg = float(reactor.power_w(agitation_rpm)) / (volume_l * 1.0)
    if epsilon_w_kg <= 0.0:
        return math.inf
    diameter = reactor.tank_diameter_m
    aspect = reactor.liquid_height_m(volume_l) / diameter
    theta = (
        5.9
        * diameter ** (2 / 3)
        * epsilon_w_kg ** (-1 / 3)
        * reactor.impeller_to_tank_ratio ** (-1 / 3)
    )
    return theta * max(aspect, 1.0)
