"""Benchmark data generator: normal batches in several regimes plus labelled faulty ones.

Batches are planned from one master seed; each batch gets its own seed derived from
(master seed, batch index), and batches are simulated in fixed chunks, so the data for a
given seed and batch count are identical whatever the number of worker processes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np

from opencdmo.engines.bioprocess.errors import InvalidInputError
from opencdmo.engines.bioprocess.faults import FAULT_KINDS, Fault
from opencdmo.engines.bioprocess.reactor import ReactorKind, bioreactor
from opencdmo.engines.bioprocess.recipe import FeedPlan, ProcessRecipe
from opencdmo.engines.bioprocess.simulator import (
    BatchResult,
    BatchSpec,
    SimulationSettings,
    simulate,
)
from opencdmo.engines.bioprocess.variability import sample_lot

__all__ = [
    "CHUNK_SIZE",
    "REGIMES",
    "GeneratorConfig",
    "generate",
    "plan_batches",
    "regime_recipe",
]

CHUNK_SIZE = 50
BATCHES_PER_LOT = 5

REGIMES: dict[str, str] = {
    "bolus_shift": "daily bolus feed from day 3, shift from 36.5 to 33 °C on day 5",
    "continuous_shift": "continuous feed from day 3, shift from 36.5 to 33 °C on day 5",
    "bolus_late_shift": "daily bolus feed, higher seeding, shift to 34 °C on day 6",
    "bolus_mild_shift": "daily bolus feed, mild shift to 35 °C on day 4, pH 7.05",
}


def regime_recipe(regime: str, duration_days: float = 14.0) -> ProcessRecipe:
    """Recipe of a named operating regime.

    Parameters
    ----------
    regime : str
        A key of :data:`REGIMES`.
    duration_days : float
        Run length, d.

    Returns
    -------
    ProcessRecipe
        The recipe.

    Raises
    ------
    InvalidInputError
        For an unknown regime.
    """
    if regime not in REGIMES:
        raise InvalidInputError("regime", f"unknown regime {regime!r}; known: {', '.join(REGIMES)}")
    feed = FeedPlan(start_day=3.0, end_day=max(3.0, min(12.0, duration_days - 2.0)))
    shift = min(5.0, duration_days)
    if regime == "continuous_shift":
        return ProcessRecipe(
            duration_days=duration_days,
            feed=replace(feed, mode="continuous"),
            temperature_shift_day=shift,
        )
    if regime == "bolus_late_shift":
        return ProcessRecipe(
            duration_days=duration_days,
            feed=feed,
            seeding_density_e6_per_ml=0.8,
            temperature_shift_day=min(6.0, duration_days),
            shifted_temperature_c=34.0,
        )
    if regime == "bolus_mild_shift":
        return ProcessRecipe(
            duration_days=duration_days,
            feed=feed,
            temperature_shift_day=min(4.0, duration_days),
            shifted_temperature_c=35.0,
            ph_setpoint=7.05,
        )
    return ProcessRecipe(duration_days=duration_days, feed=feed, temperature_shift_day=shift)


@dataclass(frozen=True)
class GeneratorConfig:
    """What to generate.

    Attributes
    ----------
    batches : int
        Total number of batches.
    faulty : int
        How many of them carry one labelled fault.
    scale_l : float
        Working volume of the bioreactor, L.
    reactor_kind : {"single_use", "stainless"}
        Construction of the bioreactor.
    seed : int
        Master seed.
    days : float
        Run length, d.
    settings : SimulationSettings
        Control step and reading interval.
    regimes : tuple of str
        Operating regimes the normal and faulty batches cycle through.
    fault_kinds : tuple of str
        Fault kinds the faulty batches cycle through.
    """

    batches: int
    faulty: int = 0
    scale_l: float = 2000.0
    reactor_kind: ReactorKind = "single_use"
    seed: int = 0
    days: float = 14.0
    settings: SimulationSettings = field(default_factory=SimulationSettings)
    regimes: tuple[str, ...] = tuple(REGIMES)
    fault_kinds: tuple[str, ...] = tuple(FAULT_KINDS)

    def __post_init__(self) -> None:
        if self.batches < 1:
            raise InvalidInputError("batches", f"must be at least 1, got {self.batches}")
        if not 0 <= self.faulty <= self.batches:
            raise InvalidInputError(
                "faulty", f"must lie between 0 and batches ({self.batches}), got {self.faulty}"
            )
        if self.seed < 0:
            raise InvalidInputError("seed", f"must not be negative, got {self.seed}")
        if not math.isfinite(self.days) or not 2.0 <= self.days <= 30.0:
            raise InvalidInputError("days", f"must lie between 2 and 30, got {self.days!r}")
        if not self.regimes:
            raise InvalidInputError("regimes", "at least one regime is needed")
        for regime in self.regimes:
            regime_recipe(regime, self.days)
        if self.faulty and not self.fault_kinds:
            raise InvalidInputError("fault_kinds", "at least one fault kind is needed")
        for kind in self.fault_kinds:
            if kind not in FAULT_KINDS:
                raise InvalidInputError(
                    "fault_kinds", f"unknown fault {kind!r}; known: {', '.join(FAULT_KINDS)}"
                )
        bioreactor(self.scale_l, self.reactor_kind)


def _batch_seed(seed: int, index: int) -> int:
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


def _draw_fault(rng: np.random.Generator, kind: str, duration_h: float) -> Fault:
    spec = FAULT_KINDS[kind]
    start = float(rng.uniform(0.2, 0.55) * duration_h)
    if kind in ("contamination", "co2_accumulation", "ph_probe_bias", "do_probe_drift"):
        end = duration_h
    else:
        end = min(duration_h, start + float(rng.uniform(48.0, 96.0)))
    low, high = spec.typical_magnitude
    magnitude = float(rng.uniform(low, high))
    if spec.signed and rng.random() < 0.5:
        magnitude = -magnitude
    if kind == "temperature_controller_failure":
        magnitude = abs(magnitude) * (1.0 if rng.random() < 0.3 else -1.5)
    return Fault(kind, round(start, 2), round(end, 2), round(magnitude, 4))


def plan_batches(config: GeneratorConfig) -> list[BatchSpec]:
    """Plan the batches of a benchmark data set.

    Normal batches cycle through the regimes; the faulty batches, at positions drawn from
    the seed, cycle through the fault kinds in a shuffled order so that every kind appears
    once ``faulty`` reaches the number of kinds. Raw-material lots change every five
    batches.

    Parameters
    ----------
    config : GeneratorConfig
        What to generate.

    Returns
    -------
    list of BatchSpec
        One spec per batch, ids ``B0001``, ``B0002``, ...
    """
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, 0x0B10]))
    reactor = bioreactor(config.scale_l, config.reactor_kind)
    recipes = {regime: regime_recipe(regime, config.days) for regime in config.regimes}
    faulty_positions = set(rng.choice(config.batches, size=config.faulty, replace=False).tolist())
    kinds = list(config.fault_kinds)
    rng.shuffle(kinds)
    n_lots = math.ceil(config.batches / BATCHES_PER_LOT)
    lots = [sample_lot(rng, f"L{config.seed:04d}-{j + 1:03d}") for j in range(n_lots)]
    duration_h = 24.0 * config.days
    specs = []
    fault_count = 0
    for index in range(config.batches):
        regime = config.regimes[index % len(config.regimes)]
        faults: tuple[Fault, ...] = ()
        if index in faulty_positions:
            faults = (_draw_fault(rng, kinds[fault_count % len(kinds)], duration_h),)
            fault_count += 1
        specs.append(
            BatchSpec(
                batch_id=f"B{index + 1:04d}",
                reactor=reactor,
                recipe=recipes[regime],
                seed=_batch_seed(config.seed, index),
                faults=faults,
                lot=lots[index // BATCHES_PER_LOT],
                regime=regime,
            )
        )
    return specs


def _simulate_chunk(specs: Sequence[BatchSpec], settings: SimulationSettings) -> list[BatchResult]:
    return simulate(specs, settings)


def generate(
    config: GeneratorConfig,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> list[BatchResult]:
    """Plan and simulate a data set, in parallel across chunks of batches.

    Parameters
    ----------
    config : GeneratorConfig
        What to generate.
    workers : int
        Worker processes; 1 simulates in this process.
    progress : callable, optional
        Called as ``progress(done, total)`` after each chunk of batches.

    Returns
    -------
    list of BatchResult
        Results in batch order.

    Raises
    ------
    InvalidInputError
        For fewer than one worker.
    """
    if workers < 1:
        raise InvalidInputError("workers", f"must be at least 1, got {workers}")
    specs = plan_batches(config)
    chunks = [specs[i : i + CHUNK_SIZE] for i in range(0, len(specs), CHUNK_SIZE)]
    results: list[BatchResult] = []
    done = 0
    if workers == 1 or len(chunks) == 1:
        for chunk in chunks:
            results.extend(_simulate_chunk(chunk, config.settings))
            done += len(chunk)
            if progress is not None:
                progress(done, len(specs))
        return results
    with ProcessPoolExecutor(max_workers=min(workers, len(chunks))) as pool:
        futures = [pool.submit(_simulate_chunk, chunk, config.settings) for chunk in chunks]
        for future, chunk in zip(futures, chunks, strict=True):
            results.extend(future.result())
            done += len(chunk)
            if progress is not None:
                progress(done, len(specs))
    return results
