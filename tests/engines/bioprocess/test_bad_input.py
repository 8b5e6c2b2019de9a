"""Impossible settings are rejected naming the parameter and the reason."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from opencdmo.engines.bioprocess.errors import InvalidInputError
from opencdmo.engines.bioprocess.faults import Fault
from opencdmo.engines.bioprocess.generator import GeneratorConfig, regime_recipe
from opencdmo.engines.bioprocess.kinetics import KineticParameters
from opencdmo.engines.bioprocess.reactor import Bioreactor, bioreactor
from opencdmo.engines.bioprocess.recipe import FeedPlan, ProcessRecipe
from opencdmo.engines.bioprocess.simulator import BatchSpec, SimulationSettings, simulate

REACTOR = bioreactor(2000.0)


def _overfilled_batch() -> object:
    return BatchSpec("B1", REACTOR, recipe=ProcessRecipe(feed=FeedPlan(daily_fraction=0.08)))


CASES: list[tuple[Callable[[], object], str, str]] = [
    (lambda: Bioreactor(-5.0), "reactor.working_volume_l", "must be a positive volume"),
    (lambda: Bioreactor(50_000.0), "reactor.working_volume_l", "outside the modelled range"),
    (lambda: bioreactor(1.0), "reactor.working_volume_l", "outside the modelled range"),
    (
        lambda: Bioreactor(200.0, kind="glass"),  # type: ignore[arg-type]
        "reactor.kind",
        "must be 'single_use'",
    ),
    (lambda: Bioreactor(200.0, impellers=0), "reactor.impellers", "at least 1"),
    (
        lambda: ProcessRecipe(initial_volume_fraction=-0.5),
        "recipe.initial_volume_fraction",
        "initial volume must be positive",
    ),
    (
        lambda: ProcessRecipe(initial_volume_fraction=1.2),
        "recipe.initial_volume_fraction",
        "fit the reactor",
    ),
    (lambda: FeedPlan(daily_fraction=-0.01), "recipe.feed.daily_fraction", "negative feed"),
    (lambda: FeedPlan(start_day=5.0, end_day=3.0), "recipe.feed.end_day", "before"),
    (
        lambda: FeedPlan(mode="drip"),  # type: ignore[arg-type]
        "recipe.feed.mode",
        "'bolus' or 'continuous'",
    ),
    (_overfilled_batch, "recipe.feed.daily_fraction", "beyond the working volume 2000 L"),
    (
        lambda: BatchSpec("B1", REACTOR, recipe=ProcessRecipe(initial_volume_fraction=0.1)),
        "recipe.initial_volume_fraction",
        "below the minimum fill",
    ),
    (lambda: ProcessRecipe(sample_volume_ml=-1.0), "recipe.sample_volume_ml", "not be negative"),
    (lambda: ProcessRecipe(temperature_c=45.0), "recipe.temperature_c", "between 25 and 40"),
    (lambda: ProcessRecipe(duration_days=0.0), "recipe.duration_days", "(0, 30]"),
    (
        lambda: ProcessRecipe(glucose_trigger_g_l=5.0, glucose_target_g_l=4.0),
        "recipe.glucose_target_g_l",
        "not be below",
    ),
    (
        lambda: BatchSpec("B1", REACTOR, faults=(Fault("over_feed", 400.0, 500.0, 1.0),)),
        "fault.start_h",
        "after the run ends",
    ),
    (
        lambda: simulate(
            [
                BatchSpec(
                    "B1",
                    REACTOR,
                    faults=(Fault("over_feed", 10, 20, 1.0), Fault("over_feed", 30, 40, 1.0)),
                )
            ]
        ),
        "faults",
        "more than one over_feed",
    ),
    (lambda: simulate([BatchSpec("B1", REACTOR)] * 2), "batch.batch_id", "unique"),
    (lambda: SimulationSettings(control_step_min=7.0), "settings.control_step_min", "divide"),
    (
        lambda: SimulationSettings(sensor_interval_min=7.0),
        "settings.sensor_interval_min",
        "multiple of the control step",
    ),
    (lambda: KineticParameters(mu_max_per_h=-0.1), "kinetics.mu_max_per_h", "non-negative"),
    (lambda: GeneratorConfig(batches=3, faulty=4), "faulty", "between 0 and batches"),
    (lambda: GeneratorConfig(batches=0), "batches", "at least 1"),
    (
        lambda: GeneratorConfig(batches=2, faulty=1, fault_kinds=("gremlin",)),
        "fault_kinds",
        "unknown fault 'gremlin'",
    ),
    (lambda: regime_recipe("perfusion"), "regime", "unknown regime 'perfusion'"),
    (lambda: GeneratorConfig(batches=2, scale_l=-100.0), "reactor.working_volume_l", "positive"),
]


@pytest.mark.parametrize(("build", "parameter", "reason"), CASES)
def test_impossible_settings_are_rejected_with_parameter_and_reason(
    build: Callable[[], object], parameter: str, reason: str
) -> None:
    """The error names the parameter and says why the value is impossible."""
    with pytest.raises(InvalidInputError) as caught:
        build()
    assert caught.value.parameter == parameter
    assert reason in caught.value.reason
    assert str(caught.value).startswith(f"{parameter}: ")


def test_a_valid_recipe_passes_the_volume_check() -> None:
    """The nominal recipe fits its reactor, and so does a modest change of it."""
    ProcessRecipe().check_fits(REACTOR)
    replace(ProcessRecipe(), seeding_density_e6_per_ml=1.0).check_fits(REACTOR)
