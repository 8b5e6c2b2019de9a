"""Process recipe: medium, inoculum, set points, feeding and sampling of a fed-batch run."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Literal

from opencdmo.engines.bioprocess.errors import InvalidInputError
from opencdmo.engines.bioprocess.reactor import Bioreactor

__all__ = ["GLUCOSE_G_PER_MMOL", "FeedMode", "FeedPlan", "ProcessRecipe"]

FeedMode = Literal["bolus", "continuous"]
GLUCOSE_G_PER_MMOL = 0.18016
LACTATE_G_PER_MMOL = 0.09008


def _require(condition: bool, parameter: str, reason: str) -> None:
    if not condition:
        raise InvalidInputError(parameter, reason)


def _finite(owner: object, prefix: str) -> None:
    for item in fields(owner):  # type: ignore[arg-type]
        value = getattr(owner, item.name)
        if isinstance(value, float | int) and not isinstance(value, bool):
            _require(
                math.isfinite(value), f"{prefix}.{item.name}", f"must be finite, got {value!r}"
            )


@dataclass(frozen=True)
class FeedPlan:
    """Nutrient feed: a concentrated feed given as daily boluses or continuously.

    Attributes
    ----------
    mode : {"bolus", "continuous"}
        Daily bolus at each whole day from ``start_day`` to ``end_day``, or a constant rate
        between those times.
    start_day, end_day : float
        First and last feeding day, d.
    daily_fraction : float
        Feed volume per day as a fraction of the initial culture volume.
    glucose_mm, glutamine_mm : float
        Feed concentrations, mM.
    osmolality_mosm_kg : float
        Total feed osmolality including glucose and glutamine, mOsm/kg.
    """

    mode: FeedMode = "bolus"
    start_day: float = 3.0
    end_day: float = 12.0
    daily_fraction: float = 0.035
    glucose_mm: float = 350.0
    glutamine_mm: float = 50.0
    osmolality_mosm_kg: float = 1200.0

    def __post_init__(self) -> None:
        _finite(self, "recipe.feed")
        _require(
            self.mode in ("bolus", "continuous"),
            "recipe.feed.mode",
            f"must be 'bolus' or 'continuous', got {self.mode!r}",
        )
        _require(self.start_day >= 0.0, "recipe.feed.start_day", "must not be negative")
        _require(
            self.end_day >= self.start_day,
            "recipe.feed.end_day",
            "must not be before recipe.feed.start_day",
        )
        _require(
            self.daily_fraction >= 0.0,
            "recipe.feed.daily_fraction",
            f"must not be negative (a negative feed volume), got {self.daily_fraction!r}",
        )
        for name in ("glucose_mm", "glutamine_mm", "osmolality_mosm_kg"):
            _require(getattr(self, name) >= 0.0, f"recipe.feed.{name}", "must not be negative")
        _require(
            self.osmolality_mosm_kg >= self.glucose_mm + self.glutamine_mm,
            "recipe.feed.osmolality_mosm_kg",
            "must at least equal the glucose plus glutamine concentration",
        )

    def feeding_days(self, duration_days: float) -> list[int]:
        """Whole days on which a bolus is given, within the run of ``duration_days`` days."""
        first = math.ceil(self.start_day)
        last = min(math.floor(self.end_day), math.floor(duration_days - 1e-9))
        return list(range(first, last + 1))

    def total_fraction(self, duration_days: float) -> float:
        """Total feed volume over the run, as a fraction of the initial volume."""
        if self.mode == "bolus":
            return self.daily_fraction * len(self.feeding_days(duration_days))
        return self.daily_fraction * max(0.0, min(self.end_day, duration_days) - self.start_day)


@dataclass(frozen=True)
class ProcessRecipe:
    """Operating recipe of a fed-batch CHO mAb run.

    Attributes
    ----------
    duration_days : float
        Run length, d.
    initial_volume_fraction : float
        Initial culture volume as a fraction of the reactor working volume.
    seeding_density_e6_per_ml : float
        Target viable cell density after inoculation, 10⁶ cells/mL.
    seeding_viability_pct : float
        Viability of the inoculum, %.
    medium_glucose_mm, medium_glutamine_mm : float
        Basal medium concentrations, mM.
    medium_osmolality_mosm_kg : float
        Basal medium osmolality, mOsm/kg.
    medium_bicarbonate_mm : float
        Sodium bicarbonate in the medium, mM.
    temperature_c : float
        Growth-phase temperature set point, °C.
    temperature_shift_day : float or None
        Day of the shift to ``shifted_temperature_c``; None runs without a shift.
    shifted_temperature_c : float
        Production-phase temperature set point, °C.
    ph_setpoint, ph_deadband : float
        pH set point and half-width of the dead band.
    do_setpoint_pct : float
        Dissolved-oxygen set point, % air saturation.
    feed : FeedPlan
        Nutrient feed.
    glucose_trigger_g_l, glucose_target_g_l : float
        After each daily sample a glucose bolus restores ``glucose_target_g_l`` when the
        measured glucose is below ``glucose_trigger_g_l``, g/L (trigger 0 disables it).
    glucose_stock_g_l : float
        Concentration of the glucose stock, g/L.
    base_concentration_m : float
        Sodium carbonate base, mol/L.
    sample_volume_ml : float
        Volume removed by each daily sample, mL.
    """

    duration_days: float = 14.0
    initial_volume_fraction: float = 0.7
    seeding_density_e6_per_ml: float = 0.6
    seeding_viability_pct: float = 97.0
    medium_glucose_mm: float = 33.0
    medium_glutamine_mm: float = 4.0
    medium_osmolality_mosm_kg: float = 300.0
    medium_bicarbonate_mm: float = 24.0
    temperature_c: float = 36.5
    temperature_shift_day: float | None = 5.0
    shifted_temperature_c: float = 33.0
    ph_setpoint: float = 7.0
    ph_deadband: float = 0.05
    do_setpoint_pct: float = 40.0
    feed: FeedPlan = field(default_factory=FeedPlan)
    glucose_trigger_g_l: float = 2.5
    glucose_target_g_l: float = 4.5
    glucose_stock_g_l: float = 400.0
    base_concentration_m: float = 1.0
    sample_volume_ml: float = 10.0

    def __post_init__(self) -> None:
        _finite(self, "recipe")
        _require(
            0.0 < self.duration_days <= 30.0,
            "recipe.duration_days",
            f"must lie in (0, 30] d, got {self.duration_days!r}",
        )
        _require(
            0.0 < self.initial_volume_fraction <= 1.0,
            "recipe.initial_volume_fraction",
            "must lie in (0, 1]: the initial volume must be positive and fit the reactor, "
            f"got {self.initial_volume_fraction!r}",
        )
        _require(
            self.seeding_density_e6_per_ml > 0.0,
            "recipe.seeding_density_e6_per_ml",
            "must be positive",
        )
        _require(
            0.0 < self.seeding_viability_pct <= 100.0,
            "recipe.seeding_viability_pct",
            "must lie in (0, 100] %",
        )
        for name in (
            "medium_glucose_mm",
            "medium_glutamine_mm",
            "glucose_trigger_g_l",
            "sample_volume_ml",
        ):
            _require(
                getattr(self, name) >= 0.0,
                f"recipe.{name}",
                f"must not be negative, got {getattr(self, name)!r}",
            )
        for name in (
            "medium_osmolality_mosm_kg",
            "medium_bicarbonate_mm",
            "glucose_stock_g_l",
            "base_concentration_m",
        ):
            _require(getattr(self, name) > 0.0, f"recipe.{name}", "must be positive")
        for name in ("temperature_c", "shifted_temperature_c"):
            _require(
                25.0 <= getattr(self, name) <= 40.0,
                f"recipe.{name}",
                "must lie between 25 and 40 °C for CHO culture",
            )
        _require(6.5 <= self.ph_setpoint <= 7.6, "recipe.ph_setpoint", "must lie in 6.5-7.6")
        _require(0.0 <= self.ph_deadband <= 0.3, "recipe.ph_deadband", "must lie in 0-0.3")
        _require(
            5.0 <= self.do_setpoint_pct <= 100.0,
            "recipe.do_setpoint_pct",
            "must lie in 5-100 % air saturation",
        )
        if self.temperature_shift_day is not None:
            _require(
                0.0 <= self.temperature_shift_day <= self.duration_days,
                "recipe.temperature_shift_day",
                "must lie within the run",
            )
        _require(
            self.glucose_target_g_l >= self.glucose_trigger_g_l,
            "recipe.glucose_target_g_l",
            "must not be below recipe.glucose_trigger_g_l",
        )
        _require(
            self.glucose_stock_g_l > self.glucose_target_g_l,
            "recipe.glucose_stock_g_l",
            "must exceed recipe.glucose_target_g_l",
        )

    def initial_volume_l(self, reactor: Bioreactor) -> float:
        """Initial culture volume in ``reactor``, L."""
        return self.initial_volume_fraction * reactor.working_volume_l

    def planned_final_volume_l(self, reactor: Bioreactor) -> float:
        """Initial volume plus planned feed minus samples, L (base and glucose excluded)."""
        v0 = self.initial_volume_l(reactor)
        samples_l = self.sample_volume_ml / 1000.0 * (math.floor(self.duration_days) + 1)
        return v0 * (1.0 + self.feed.total_fraction(self.duration_days)) - samples_l

    def check_fits(self, reactor: Bioreactor) -> None:
        """Reject a recipe whose volumes do not fit ``reactor``.

        Raises
        ------
        InvalidInputError
            When the initial volume is below the minimum fill, the planned feed takes the
            culture beyond the working volume, or the samples would empty the vessel.
        """
        v0 = self.initial_volume_l(reactor)
        _require(
            v0 >= reactor.min_fill_fraction * reactor.working_volume_l,
            "recipe.initial_volume_fraction",
            f"initial volume {v0:.4g} L is below the minimum fill "
            f"{reactor.min_fill_fraction:.0%} of the {reactor.working_volume_l:g} L reactor",
        )
        final = self.planned_final_volume_l(reactor)
        _require(
            final <= reactor.working_volume_l,
            "recipe.feed.daily_fraction",
            f"the planned feed brings the culture to {final:.4g} L, beyond the working "
            f"volume {reactor.working_volume_l:g} L of the reactor",
        )
        samples_l = self.sample_volume_ml / 1000.0 * (math.floor(self.duration_days) + 1)
        _require(
            samples_l < 0.2 * v0,
            "recipe.sample_volume_ml",
            f"daily samples remove {samples_l:.4g} L, more than 20 % of the initial {v0:.4g} L",
        )

    def temperature_setpoint_c(self, time_h: float) -> float:
        """Temperature set point at ``time_h`` hours, °C."""
        if self.temperature_shift_day is not None and time_h >= 24.0 * self.temperature_shift_day:
            return self.shifted_temperature_c
        return self.temperature_c
