"""Fed-batch simulator: batches advance together, vectorised over the batch axis.

Scheme (per control step, 5 min by default): sensors read the true state with noise and
faults; the controllers update; the slow biological states are integrated as amounts (so
that mass balances close to rounding error) with a classical fourth-order Runge-Kutta step
under piecewise-constant inputs; the fast gas states (DO, dissolved CO₂) and temperature,
whose equations are linear over a step, are advanced with their exact exponential solution.
Daily events (offline sample, glucose top-up, bolus feed) happen at whole days. A
high-level interlock stops feeds and base at the working volume.

Chemistry and plant constants: pH from the bicarbonate buffer, pH = 6.1 +
log10([HCO₃⁻]/(0.0307·pCO₂)); base is 1 M Na₂CO₃ pumped at up to 0.5 mL/(L·h), each mole
adding two of alkalinity and taking up one of dissolved CO₂; lactic acid converts
bicarbonate to CO₂ mole for mole; CO₂ sparge for pH control reaches 0.02 vvm. A contaminant
turns 0.5 mol of the glucose it takes up into acid and raises the death rate by twice its
fold increase of uptake. pH and DO probes see local gradients in large tanks: their noise
is multiplied by 1 + θ95/120 s, θ95 the mixing time at maximum agitation (about 1.04 at
2 L, 1.3 at 2,000 L, 1.7 at 20,000 L).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from opencdmo.engines.bioprocess.control import DoCascade, PhControl, jacket_temperature_c
from opencdmo.engines.bioprocess.errors import IntegrationError, InvalidInputError
from opencdmo.engines.bioprocess.faults import Fault, FaultSchedule
from opencdmo.engines.bioprocess.kinetics import KineticParameters, environment_factors
from opencdmo.engines.bioprocess.reactor import (
    AIR_SATURATION_MM,
    CO2_SOLUBILITY_MM_PER_MMHG,
    MMHG_PER_ATM,
    O2_SOLUBILITY_MM_PER_ATM,
    SURFACE_KL_M_H,
    WATER_DENSITY_KG_M3,
    Bioreactor,
    co2_stripping_rate_per_h,
    kla_o2_per_h,
    mixing_time_s,
)
from opencdmo.engines.bioprocess.recipe import (
    GLUCOSE_G_PER_MMOL,
    LACTATE_G_PER_MMOL,
    ProcessRecipe,
)
from opencdmo.engines.bioprocess.sensors import OFFLINE_ASSAYS, ONLINE_SENSORS
from opencdmo.engines.bioprocess.variability import (
    BatchVariation,
    RawMaterialLot,
    nominal_lot,
    sample_variation,
)

__all__ = [
    "TRUE_VARIABLES",
    "BatchResult",
    "BatchSpec",
    "GlucoseBalance",
    "SimulationSettings",
    "simulate",
]

FloatArray = NDArray[np.float64]

PKA_BICARBONATE = 6.1
BASE_MAX_L_PER_L_H = 0.5e-3
CO2_MAX_VVM = 0.02
AMMONIUM_INITIAL_MM = 0.3
CONTAMINANT_ACID_PER_GLUCOSE = 0.5
CONTAMINANT_DEATH_PER_UPTAKE = 2.0
MIXING_NOISE_TIME_S = 120.0

(V, XV, XD, GLC, GLN, LAC, AMM, INH, MAB, ALK, OSM, ACID, GCONS) = range(13)
STATE_NAMES = (
    "volume_l",
    "viable_cells",
    "dead_cells",
    "glucose",
    "glutamine",
    "lactate",
    "ammonium",
    "inhibitor",
    "antibody",
    "alkalinity",
    "other_osmolytes",
    "acid_formed",
    "glucose_consumed",
)

TRUE_VARIABLES: tuple[tuple[str, str], ...] = (
    ("vcd_e6_per_ml", "1e6 cells/mL"),
    ("viability_pct", "%"),
    ("glucose_g_l", "g/L"),
    ("glutamine_mm", "mM"),
    ("lactate_g_l", "g/L"),
    ("ammonium_mm", "mM"),
    ("titer_g_l", "g/L"),
    ("osmolality_mosm_kg", "mOsm/kg"),
    ("ph", "pH"),
    ("do_pct", "% air sat"),
    ("pco2_mmhg", "mmHg"),
    ("temperature_c", "degC"),
    ("volume_l", "L"),
    ("kla_per_h", "1/h"),
    ("our_mmol_l_h", "mmol/(L h)"),
)


@dataclass(frozen=True)
class SimulationSettings:
    """Numerical settings.

    Attributes
    ----------
    control_step_min : float
        Control and integration step, min; must divide one day.
    sensor_interval_min : float
        Interval of recorded online readings, min; a multiple of the control step.
    """

    control_step_min: float = 5.0
    sensor_interval_min: float = 5.0

    def __post_init__(self) -> None:
        step = self.control_step_min
        if not math.isfinite(step) or step <= 0.0 or step > 60.0:
            raise InvalidInputError(
                "settings.control_step_min", f"must lie in (0, 60] min, got {step!r}"
            )
        if abs(1440.0 / step - round(1440.0 / step)) > 1e-9:
            raise InvalidInputError(
                "settings.control_step_min", f"{step:g} min does not divide one day"
            )
        ratio = self.sensor_interval_min / step
        if not math.isfinite(ratio) or ratio < 1.0 or abs(ratio - round(ratio)) > 1e-9:
            raise InvalidInputError(
                "settings.sensor_interval_min",
                f"must be a whole multiple of the control step {step:g} min, "
                f"got {self.sensor_interval_min!r}",
            )


@dataclass(frozen=True)
class BatchSpec:
    """Everything that defines one simulated batch.

    Attributes
    ----------
    batch_id : str
        Batch (lot) identifier.
    reactor : Bioreactor
        Vessel.
    recipe : ProcessRecipe
        Operating recipe.
    seed : int
        Seed of this batch's randomness (variation and measurement noise).
    faults : tuple of Fault
        Labelled faults, at most one of each kind.
    variation : BatchVariation or None
        Deviations from nominal; None draws them from ``seed``.
    lot : RawMaterialLot
        Raw-material lot used.
    regime : str
        Name of the operating regime, for labels.
    kinetics : KineticParameters
        Kinetic constants.
    """

    batch_id: str
    reactor: Bioreactor
    recipe: ProcessRecipe = field(default_factory=ProcessRecipe)
    seed: int = 0
    faults: tuple[Fault, ...] = ()
    variation: BatchVariation | None = None
    lot: RawMaterialLot = field(default_factory=nominal_lot)
    regime: str = "nominal"
    kinetics: KineticParameters = field(default_factory=KineticParameters)

    def __post_init__(self) -> None:
        if not self.batch_id:
            raise InvalidInputError("batch.batch_id", "must not be empty")
        if self.seed < 0:
            raise InvalidInputError("batch.seed", f"must not be negative, got {self.seed}")
        self.recipe.check_fits(self.reactor)
        duration_h = 24.0 * self.recipe.duration_days
        for fault in self.faults:
            if fault.start_h >= duration_h:
                raise InvalidInputError(
                    "fault.start_h",
                    f"{fault.kind} starts at {fault.start_h:g} h, after the run ends "
                    f"at {duration_h:g} h",
                )


@dataclass(frozen=True)
class GlucoseBalance:
    """Glucose balance over a batch, mmol.

    Attributes
    ----------
    initial_mmol, fed_mmol, consumed_mmol, remaining_mmol, sampled_mmol : float
        Glucose in the initial medium, added by feeds, taken up by cells, left at harvest
        and removed with samples, mmol.
    """

    initial_mmol: float
    fed_mmol: float
    consumed_mmol: float
    remaining_mmol: float
    sampled_mmol: float

    @property
    def closure_error_mmol(self) -> float:
        """Initial + fed - consumed - remaining - sampled, mmol (zero when it closes)."""
        return (
            self.initial_mmol
            + self.fed_mmol
            - self.consumed_mmol
            - self.remaining_mmol
            - self.sampled_mmol
        )


@dataclass(frozen=True)
class BatchResult:
    """Simulated data of one batch.

    Attributes
    ----------
    spec : BatchSpec
        The batch definition.
    variation : BatchVariation
        Deviations actually used.
    time_h : ndarray
        Times of the online readings, h.
    online : dict of str to ndarray
        Online readings (with noise and faults), one array over ``time_h`` per sensor.
    true : dict of str to ndarray
        True process values over ``time_h`` (see :data:`TRUE_VARIABLES`).
    sample_time_h : ndarray
        Times of the daily offline samples, h.
    offline : dict of str to ndarray
        Offline assay results (with assay error) over ``sample_time_h``.
    glucose_balance : GlucoseBalance
        Glucose balance of the run.
    glucose_added_l : float
        Volume of glucose stock added, L.
    """

    spec: BatchSpec
    variation: BatchVariation
    time_h: FloatArray
    online: dict[str, FloatArray]
    true: dict[str, FloatArray]
    sample_time_h: FloatArray
    offline: dict[str, FloatArray]
    glucose_balance: GlucoseBalance
    glucose_added_l: float


def simulate(
    specs: Sequence[BatchSpec], settings: SimulationSettings | None = None
) -> list[BatchResult]:
    """Simulate batches, vectorised over batches that share duration and kinetics.

    Parameters
    ----------
    specs : sequence of BatchSpec
        Batches to simulate; each one's result depends only on its own spec and the
        settings (and on the batches it is vectorised with only through rounding).
    settings : SimulationSettings, optional
        Numerical settings; defaults to a 5 min step and 5 min readings.

    Returns
    -------
    list of BatchResult
        One result per spec, in order.

    Raises
    ------
    InvalidInputError
        For duplicate batch ids.
    IntegrationError
        When a state leaves the physical domain, naming batch, time and state.
    """
    settings = settings or SimulationSettings()
    ids = [spec.batch_id for spec in specs]
    if len(set(ids)) != len(ids):
        raise InvalidInputError("batch.batch_id", "batch ids must be unique")
    groups: dict[tuple[float, KineticParameters], list[int]] = {}
    for index, spec in enumerate(specs):
        groups.setdefault((spec.recipe.duration_days, spec.kinetics), []).append(index)
    results: list[BatchResult | None] = [None] * len(specs)
    for indices in groups.values():
        for index, result in zip(
            indices, _simulate_group([specs[i] for i in indices], settings), strict=True
        ):
            results[index] = result
    return [result for result in results if result is not None]


class _Group:
    """Per-batch constants of a group, as arrays over the batch axis."""

    def __init__(self, specs: list[BatchSpec], variations: list[BatchVariation]) -> None:
        def arr(values: Sequence[float]) -> FloatArray:
            return np.asarray(values, dtype=float)

        recipes = [s.recipe for s in specs]
        reactors = [s.reactor for s in specs]
        lots = [s.lot for s in specs]
        self.v_working = arr([r.working_volume_l for r in reactors])
        self.v0 = arr([rc.initial_volume_l(rx) for rc, rx in zip(recipes, reactors, strict=True)])
        self.x0 = arr(
            [
                rc.seeding_density_e6_per_ml * v.inoculum_multiplier
                for rc, v in zip(recipes, variations, strict=True)
            ]
        )
        viability = arr([v.inoculum_viability_pct for v in variations])
        self.xd0 = self.x0 * (100.0 - viability) / viability
        self.glc0 = arr(
            [
                rc.medium_glucose_mm * lot.glucose_multiplier
                for rc, lot in zip(recipes, lots, strict=True)
            ]
        )
        self.gln0 = arr([rc.medium_glutamine_mm for rc in recipes])
        self.alk0 = arr([rc.medium_bicarbonate_mm for rc in recipes])
        medium_osm = arr(
            [
                rc.medium_osmolality_mosm_kg + lot.osmolality_offset_mosm_kg
                for rc, lot in zip(recipes, lots, strict=True)
            ]
        )
        self.other0 = medium_osm - self.glc0 - self.gln0 - self.alk0 - AMMONIUM_INITIAL_MM
        for index, other in enumerate(self.other0):
            if other < 0.0:
                raise InvalidInputError(
                    "recipe.medium_osmolality_mosm_kg",
                    f"batch {specs[index].batch_id}: lower than the medium's glucose, "
                    "glutamine and bicarbonate together",
                )
        feeds = [rc.feed for rc in recipes]
        self.feed_glc = arr([f.glucose_mm for f in feeds])
        self.feed_gln = arr([f.glutamine_mm for f in feeds])
        self.feed_other = arr([f.osmolality_mosm_kg - f.glucose_mm - f.glutamine_mm for f in feeds])
        self.feed_daily_l = arr([f.daily_fraction for f in feeds]) * self.v0
        self.feed_continuous = arr([f.mode == "continuous" for f in feeds])
        self.feed_start_h = arr([24.0 * f.start_day for f in feeds])
        self.feed_end_h = arr([24.0 * f.end_day for f in feeds])
        duration = recipes[0].duration_days
        n_days = math.floor(duration + 1e-9)
        self.bolus_days = np.zeros((n_days + 1, len(specs)), dtype=bool)
        for index, feed in enumerate(feeds):
            if feed.mode == "bolus":
                for day in feed.feeding_days(duration):
                    self.bolus_days[day, index] = True
        self.temp_growth = arr([rc.temperature_c for rc in recipes])
        self.temp_production = arr([rc.shifted_temperature_c for rc in recipes])
        self.shift_h = arr(
            [
                math.inf if rc.temperature_shift_day is None else 24.0 * rc.temperature_shift_day
                for rc in recipes
            ]
        )
        self.ph_sp = arr([rc.ph_setpoint for rc in recipes])
        self.ph_db = arr([rc.ph_deadband for rc in recipes])
        self.do_sp = arr([rc.do_setpoint_pct for rc in recipes])
        self.glc_trigger = arr([rc.glucose_trigger_g_l for rc in recipes])
        self.glc_target = arr([rc.glucose_target_g_l for rc in recipes])
        self.glc_stock_g_l = arr([rc.glucose_stock_g_l for rc in recipes])
        self.base_m = arr([rc.base_concentration_m for rc in recipes])
        self.sample_l = arr([rc.sample_volume_ml / 1000.0 for rc in recipes])
        self.power_factor = arr(
            [
                rx.impellers * rx.power_number * WATER_DENSITY_KG_M3 * rx.impeller_diameter_m**5
                for rx in reactors
            ]
        )
        self.area = arr([rx.cross_section_m2 for rx in reactors])
        self.head_atm = arr([(1.01325 + rx.overpressure_bar) / 1.01325 for rx in reactors])
        self.hydro_atm_per_l = (
            WATER_DENSITY_KG_M3 * 9.81 / 1e5 / 1.01325 / 2.0 / (1000.0 * self.area)
        )
        self.agit_min = arr([rx.min_agitation_rpm for rx in reactors])
        self.agit_max = arr([rx.max_agitation_rpm for rx in reactors])
        self.gas_min = arr([rx.min_gas_vvm for rx in reactors]) * self.v_working
        self.gas_max = arr([rx.max_gas_vvm for rx in reactors]) * self.v_working
        self.co2_max = CO2_MAX_VVM * self.v_working
        self.base_max_l_h = BASE_MAX_L_PER_L_H * self.v_working
        self.kla_factor = arr([rx.kla_factor for rx in reactors])
        self.tau_temp_h = arr([rx.heat_time_constant_h for rx in reactors])
        self.probe_noise = 1.0 + arr(
            [
                mixing_time_s(rx, rx.max_agitation_rpm, rx.working_volume_l) / MIXING_NOISE_TIME_S
                for rx in reactors
            ]
        )
        self.mu_mult = arr(
            [
                v.growth_multiplier * lot.growth_multiplier
                for v, lot in zip(variations, lots, strict=True)
            ]
        )
        self.qp_mult = arr(
            [
                v.productivity_multiplier * lot.productivity_multiplier
                for v, lot in zip(variations, lots, strict=True)
            ]
        )
        self.glc_mult = arr([v.glucose_uptake_multiplier for v in variations])
        self.o2_mult = arr([v.oxygen_uptake_multiplier for v in variations])
        self.kd_mult = arr([v.death_multiplier for v in variations])
        self.inhibitor_mult = arr([v.inhibitor_multiplier for v in variations])
        self.lag_h = arr([v.lag_h for v in variations])

    def pressure_atm(self, volume_l: FloatArray) -> FloatArray:
        return self.head_atm + self.hydro_atm_per_l * volume_l


def _noise(rng: np.random.Generator, n_times: int, n_vars: int) -> FloatArray:
    return rng.standard_normal((n_times, n_vars))


def _measure(
    true_value: FloatArray, absolute_sd: float, relative_sd: float, noise: FloatArray
) -> FloatArray:
    return true_value * (1.0 + relative_sd * noise) + absolute_sd * noise


def _simulate_group(specs: list[BatchSpec], settings: SimulationSettings) -> list[BatchResult]:
    kin = specs[0].kinetics
    n = len(specs)
    step_h = settings.control_step_min / 60.0
    duration_h = 24.0 * specs[0].recipe.duration_days
    n_steps = round(duration_h / step_h)
    per_day = round(24.0 / step_h)
    per_record = round(settings.sensor_interval_min / settings.control_step_min)
    record_steps = np.arange(0, n_steps + 1, per_record)
    if record_steps[-1] != n_steps:
        record_steps = np.append(record_steps, n_steps)
    n_days = n_steps // per_day
    rngs = [np.random.default_rng(np.random.SeedSequence(spec.seed)) for spec in specs]
    variations = [
        spec.variation if spec.variation is not None else sample_variation(rng, spec.recipe)
        for spec, rng in zip(specs, rngs, strict=True)
    ]
    online_noise = np.stack([_noise(rng, n_steps + 1, len(ONLINE_SENSORS)) for rng in rngs], axis=1)
    offline_noise = np.stack([_noise(rng, n_days + 1, len(OFFLINE_ASSAYS)) for rng in rngs], axis=1)
    g = _Group(specs, variations)
    schedule = FaultSchedule([spec.faults for spec in specs])

    y = np.zeros((len(STATE_NAMES), n))
    y[V] = g.v0
    y[XV] = g.x0 * g.v0
    y[XD] = g.xd0 * g.v0
    y[GLC] = g.glc0 * g.v0
    y[GLN] = g.gln0 * g.v0
    y[AMM] = AMMONIUM_INITIAL_MM * g.v0
    y[ALK] = g.alk0 * g.v0
    y[OSM] = g.other0 * g.v0
    pressure = g.pressure_atm(y[V])
    do_mm = AIR_SATURATION_MM * pressure
    co2_mm = 40.0 * CO2_SOLUBILITY_MM_PER_MMHG * np.ones(n)
    temperature = g.temp_growth.copy()
    do_control = DoCascade(n)
    ph_control = PhControl(n)
    glucose_fed = np.zeros(n)
    glucose_sampled = np.zeros(n)
    glucose_added_l = np.zeros(n)
    feed_added_l = np.zeros(n)
    base_added_l = np.zeros(n)
    initial_glucose = y[GLC].copy()

    online_columns = [_COLUMN[name] for name in _ONLINE_ORDER]
    online = np.zeros((len(record_steps), n, len(ONLINE_SENSORS)))
    true = np.zeros((len(record_steps), n, len(TRUE_VARIABLES)))
    offline = np.zeros((n_days + 1, n, len(OFFLINE_ASSAYS)))
    sample_time_h = np.arange(n_days + 1) * 24.0

    mu_max = kin.mu_max_per_h
    yxg = kin.y_x_glc_e9cells_per_mmol
    yxq = kin.y_x_gln_e9cells_per_mmol
    qp_scale = kin.qp_pg_per_cell_h * g.qp_mult
    kd_scale = g.kd_mult
    lac_uptake = kin.q_lac_uptake_pmol_per_cell_h
    inhibitor_rate = kin.q_inhibitor_pmol_per_cell_h * g.inhibitor_mult
    half_saturation = np.array(
        [kin.k_glc_mm, kin.k_gln_mm, kin.kd_lac_mm, kin.kd_amm_mm, kin.kd_inhibitor_mm]
    )[:, None]

    def rhs(
        state: FloatArray,
        growth: FloatArray,
        metabolism: FloatArray,
        death: FloatArray,
        productivity: FloatArray,
        uptake: FloatArray,
        feed_l_h: FloatArray,
        base_l_h: FloatArray,
    ) -> FloatArray:
        volume = state[V]
        cells = state[XV]
        conc = np.maximum(state[GLC : INH + 1] / volume, 0.0)
        _, gln, lac, amm, inhibitor = conc
        saturation = conc / (half_saturation + conc)
        f_glc, f_gln, death_lac, death_amm, death_inhibitor = saturation
        mu = (
            growth
            * f_glc
            * f_gln
            * kin.ki_lac_mm
            / (kin.ki_lac_mm + lac)
            * kin.ki_amm_mm
            / (kin.ki_amm_mm + amm)
            / (1.0 + (inhibitor / kin.ki_inhibitor_mm) ** kin.inhibitor_hill)
        )
        kd = death * (
            kin.kd_base_per_h
            + 0.5 * kin.kd_tox_per_h * (death_lac + death_amm)
            + kin.kd_starve_per_h * (1.0 - f_glc) ** 4
            + kin.kd_inhibitor_per_h * death_inhibitor
        )
        q_glc_cells = mu / yxg + kin.m_glc_pmol_per_cell_h * metabolism * f_glc * g.glc_mult
        q_glc = q_glc_cells * uptake
        q_gln = mu / yxq + kin.a1_gln_pmol_per_cell_h * metabolism * gln / (kin.a2_gln_mm + gln)
        shift = np.maximum(1.0 - mu / mu_max, 0.0)
        q_lac = (
            kin.y_lac_glc * mu / yxg
            - lac_uptake * metabolism * shift * lac / (kin.k_lac_uptake_mm + lac)
            + CONTAMINANT_ACID_PER_GLUCOSE * (q_glc - q_glc_cells)
        )
        q_amm = kin.y_amm_gln * q_gln - kin.r_amm_pmol_per_cell_h * amm / (1.0 + amm)
        degradation = kin.k_gln_degradation_per_h * state[GLN]
        out = np.empty_like(state)
        out[V] = feed_l_h + base_l_h
        out[XV] = (mu - kd) * cells
        out[XD] = kd * cells - kin.k_lysis_per_h * state[XD]
        out[GLC] = feed_l_h * g.feed_glc - q_glc * cells
        out[GCONS] = q_glc * cells
        out[GLN] = feed_l_h * g.feed_gln - q_gln * cells - degradation
        out[LAC] = q_lac * cells
        out[AMM] = q_amm * cells + degradation
        out[MAB] = productivity * cells
        acid = (q_lac - q_amm) * cells
        out[ALK] = 2.0 * g.base_m * base_l_h - acid
        out[OSM] = feed_l_h * g.feed_other + 2.0 * g.base_m * base_l_h
        out[ACID] = acid
        out[INH] = inhibitor_rate * cells
        return out

    for k in range(n_steps + 1):
        t = k * step_h
        effects = schedule.effects(t)
        volume = y[V]
        if k % per_day == 0:
            day = k // per_day
            ph_true = PKA_BICARBONATE + np.log10(np.maximum(y[ALK] / volume, 0.1) / co2_mm)
            osm = (y[OSM] + y[GLC] + y[GLN] + y[LAC] + y[AMM] + y[ALK]) / volume
            values = {
                "vcd_e6_per_ml": y[XV] / volume,
                "viability_pct": 100.0 * y[XV] / (y[XV] + y[XD]),
                "glucose_g_l": y[GLC] / volume * GLUCOSE_G_PER_MMOL,
                "glutamine_mm": y[GLN] / volume,
                "lactate_g_l": y[LAC] / volume * LACTATE_G_PER_MMOL,
                "ammonium_mm": y[AMM] / volume,
                "titer_g_l": y[MAB] / volume / 1000.0,
                "osmolality_mosm_kg": osm,
                "ph_offline": ph_true,
                "pco2_mmhg": co2_mm / CO2_SOLUBILITY_MM_PER_MMHG,
                "po2_mmhg": do_mm / (O2_SOLUBILITY_MM_PER_ATM / MMHG_PER_ATM),
            }
            for j, assay in enumerate(OFFLINE_ASSAYS):
                offline[day, :, j] = np.round(
                    np.maximum(
                        _measure(
                            values[assay.name],
                            assay.absolute_sd,
                            assay.relative_sd,
                            offline_noise[day, :, j],
                        ),
                        0.0,
                    ),
                    assay.decimals,
                )
            keep = (volume - g.sample_l) / volume
            glucose_sampled += y[GLC] * (1.0 - keep)
            for row in (V, XV, XD, GLC, GLN, LAC, AMM, INH, MAB, ALK, OSM):
                y[row] *= keep
            if k < n_steps:
                old_volume = y[V].copy()
                measured_glc = offline[day, :, OFFLINE_ASSAYS.index(_GLUCOSE_ASSAY)]
                top_up = (day >= 1) & (measured_glc < g.glc_trigger)
                add_l = np.where(
                    top_up,
                    (g.glc_target - measured_glc) * y[V] / (g.glc_stock_g_l - g.glc_target),
                    0.0,
                )
                add_l = np.minimum(add_l, np.maximum(g.v_working - y[V], 0.0))
                stock_mm = g.glc_stock_g_l / GLUCOSE_G_PER_MMOL
                y[GLC] += stock_mm * add_l
                y[V] += add_l
                glucose_fed += stock_mm * add_l
                glucose_added_l += add_l
                bolus_l = np.where(g.bolus_days[day], g.feed_daily_l * effects.feed_multiplier, 0.0)
                bolus_l = np.minimum(bolus_l, np.maximum(g.v_working - y[V], 0.0))
                y[GLC] += g.feed_glc * bolus_l
                y[GLN] += g.feed_gln * bolus_l
                y[OSM] += g.feed_other * bolus_l
                y[V] += bolus_l
                glucose_fed += g.feed_glc * bolus_l
                feed_added_l += bolus_l
                dilution = old_volume / y[V]
                do_mm *= dilution
                co2_mm *= dilution
            volume = y[V]

        noise = online_noise[k]
        do_pct = do_mm / AIR_SATURATION_MM * 100.0
        ph_true = PKA_BICARBONATE + np.log10(np.maximum(y[ALK] / volume, 0.1) / co2_mm)
        do_noise = _SD["do_pct"] * g.probe_noise * noise[:, _COLUMN["do_pct"]]
        do_read = do_pct + do_noise + effects.do_offset_pct
        ph_read = ph_true + _SD["ph"] * g.probe_noise * noise[:, _COLUMN["ph"]] + effects.ph_bias
        temp_read = temperature + _SD["temperature_c"] * noise[:, _COLUMN["temperature_c"]]
        setpoint_c = np.where(t >= g.shift_h, g.temp_production, g.temp_growth)
        jacket = np.where(
            effects.jacket_failed,
            setpoint_c + effects.jacket_offset_c,
            jacket_temperature_c(setpoint_c, temp_read, g.tau_temp_h),
        )

        do_control.update(do_read, g.do_sp, step_h)
        ph_control.update(ph_read, g.ph_sp, g.ph_db, step_h)
        agit_cmd, air, oxygen = do_control.actuators(g.agit_min, g.agit_max, g.gas_min, g.gas_max)
        agitation = agit_cmd * effects.agitation_multiplier
        co2_flow = ph_control.co2_fraction() * g.co2_max
        below_high_level = volume < g.v_working
        base_l_h = ph_control.base_fraction() * g.base_max_l_h * below_high_level
        gas = air + oxygen + co2_flow
        pressure = g.pressure_atm(volume)
        power_per_volume = g.power_factor * (agitation / 60.0) ** 3 / (volume / 1000.0)
        velocity = gas / 60000.0 / g.area
        kla = kla_o2_per_h(power_per_volume, velocity, g.kla_factor)
        in_feed_window = (t >= g.feed_start_h) & (t < g.feed_end_h)
        feed_l_h = (
            g.feed_continuous
            * in_feed_window
            * below_high_level
            * g.feed_daily_l
            / 24.0
            * effects.feed_multiplier
        )

        osm = (y[OSM] + y[GLC] + y[GLN] + y[LAC] + y[AMM] + y[ALK]) / volume
        pco2 = co2_mm / CO2_SOLUBILITY_MM_PER_MMHG
        env = environment_factors(kin, temperature, ph_true, do_mm, pco2, osm)
        lag = -np.expm1(-t / g.lag_h) if t > 0.0 else np.zeros(n)
        growth = mu_max * g.mu_mult * env.growth * lag
        death = (
            kd_scale
            * env.death
            * (1.0 + CONTAMINANT_DEATH_PER_UPTAKE * (effects.uptake_multiplier - 1.0))
        )
        productivity = qp_scale * env.productivity
        q_o2 = (
            kin.q_o2_pmol_per_cell_h
            * g.o2_mult
            * env.metabolism
            * env.oxygen
            * effects.uptake_multiplier
        )
        our = q_o2 * y[XV] / volume

        if k % per_record == 0 or k == n_steps:
            r = np.searchsorted(record_steps, k)
            for j, value in enumerate(
                (
                    temp_read,
                    jacket
                    + _SD["jacket_temperature_c"] * noise[:, _COLUMN["jacket_temperature_c"]],
                    ph_read,
                    do_read,
                    agitation,
                    air,
                    oxygen,
                    co2_flow,
                    base_added_l,
                    feed_added_l,
                    volume,
                    our,
                )
            ):
                online[r, :, online_columns[j]] = value
            true[r] = np.stack(
                [
                    y[XV] / volume,
                    100.0 * y[XV] / (y[XV] + y[XD]),
                    y[GLC] / volume * GLUCOSE_G_PER_MMOL,
                    y[GLN] / volume,
                    y[LAC] / volume * LACTATE_G_PER_MMOL,
                    y[AMM] / volume,
                    y[MAB] / volume / 1000.0,
                    osm,
                    ph_true,
                    do_pct,
                    pco2,
                    temperature,
                    volume,
                    kla,
                    our,
                ],
                axis=1,
            )
        if k == n_steps:
            break

        args = (
            growth,
            env.metabolism,
            death,
            productivity,
            effects.uptake_multiplier,
            feed_l_h,
            base_l_h,
        )
        k1 = rhs(y, *args)
        k2 = rhs(y + 0.5 * step_h * k1, *args)
        k3 = rhs(y + 0.5 * step_h * k2, *args)
        k4 = rhs(y + step_h * k3, *args)
        y_new = y + step_h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)

        new_volume = y_new[V]
        dilution = volume / new_volume
        mean_cells = 0.5 * (y[XV] / volume + y_new[XV] / new_volume)
        our_step = q_o2 * mean_cells
        o2_fraction = (0.21 * air + oxygen) / gas
        do_star = o2_fraction * O2_SOLUBILITY_MM_PER_ATM * pressure
        decay = np.exp(-kla * step_h)
        phi = -np.expm1(-kla * step_h) / np.maximum(kla, 1e-9)
        do_mm = np.maximum(do_mm * dilution * decay + (do_star * kla - our_step) * phi, 0.0)

        co2_mm = (
            co2_mm * dilution
            + ((y_new[ACID] - y[ACID]) - g.base_m * base_l_h * step_h) / new_volume
        )
        co2_mm = np.maximum(co2_mm, 1e-3)
        surface = SURFACE_KL_M_H * g.area / (new_volume / 1000.0)
        strip = (
            co2_stripping_rate_per_h(kla, gas, new_volume, pressure, surface)
            * effects.stripping_multiplier
        )
        co2_gas = co2_flow / gas * CO2_SOLUBILITY_MM_PER_MMHG * MMHG_PER_ATM * pressure
        strip_decay = np.exp(-strip * step_h)
        strip_phi = -np.expm1(-strip * step_h) / np.maximum(strip, 1e-9)
        co2_mm = (
            co2_mm * strip_decay
            + (co2_gas * strip + kin.respiratory_quotient * our_step) * strip_phi
        )

        target_c = np.where(effects.jacket_failed, setpoint_c + effects.jacket_offset_c, setpoint_c)
        temperature = target_c + (temperature - target_c) * np.exp(-step_h / g.tau_temp_h)

        glucose_fed += feed_l_h * step_h * g.feed_glc
        feed_added_l = feed_added_l + feed_l_h * step_h
        base_added_l = base_added_l + base_l_h * step_h
        y = y_new
        _check(y, specs, t + step_h)

    record_noise = online_noise[record_steps]
    for j, sensor in enumerate(ONLINE_SENSORS):
        if sensor.name not in _READ_IN_LOOP:
            online[:, :, j] = _measure(
                online[:, :, j], sensor.absolute_sd, sensor.relative_sd, record_noise[:, :, j]
            )
        online[:, :, j] = np.round(online[:, :, j], sensor.decimals)

    results = []
    for i, spec in enumerate(specs):
        balance = GlucoseBalance(
            initial_mmol=float(initial_glucose[i]),
            fed_mmol=float(glucose_fed[i]),
            consumed_mmol=float(y[GCONS, i]),
            remaining_mmol=float(y[GLC, i]),
            sampled_mmol=float(glucose_sampled[i]),
        )
        results.append(
            BatchResult(
                spec=spec,
                variation=variations[i],
                time_h=(record_steps * step_h).astype(np.float64),
                online={m.name: online[:, i, _COLUMN[m.name]].copy() for m in ONLINE_SENSORS},
                true={name: true[:, i, j].copy() for j, (name, _) in enumerate(TRUE_VARIABLES)},
                sample_time_h=sample_time_h.astype(np.float64),
                offline={a.name: offline[:, i, j].copy() for j, a in enumerate(OFFLINE_ASSAYS)},
                glucose_balance=balance,
                glucose_added_l=float(glucose_added_l[i]),
            )
        )
    return results


_COLUMN = {m.name: i for i, m in enumerate(ONLINE_SENSORS)}
_SD = {m.name: m.absolute_sd for m in ONLINE_SENSORS}
_READ_IN_LOOP = frozenset({"temperature_c", "jacket_temperature_c", "ph", "do_pct"})
_ONLINE_ORDER = (
    "temperature_c",
    "jacket_temperature_c",
    "ph",
    "do_pct",
    "agitation_rpm",
    "air_flow_slpm",
    "o2_flow_slpm",
    "co2_flow_slpm",
    "base_added_l",
    "feed_added_l",
    "volume_l",
    "our_mmol_l_h",
)
_GLUCOSE_ASSAY = next(a for a in OFFLINE_ASSAYS if a.name == "glucose_g_l")


def _check(y: FloatArray, specs: list[BatchSpec], time_h: float) -> None:
    if np.isfinite(y).all() and y[1:9].min() >= -1e-6 * max(float(y[V].max()), 1.0):
        return
    bad = ~np.isfinite(y)
    bad[1:9] |= y[1:9] < -1e-6 * np.maximum(y[V], 1.0)
    row, column = (int(i[0]) for i in np.nonzero(bad))
    raise IntegrationError(specs[column].batch_id, time_h, STATE_NAMES[row], float(y[row, column]))
