"""Shared simulated batches: computed once per test session (per xdist worker)."""

from __future__ import annotations

import pytest

from opencdmo.engines.bioprocess.faults import Fault
from opencdmo.engines.bioprocess.generator import GeneratorConfig, generate
from opencdmo.engines.bioprocess.reactor import bioreactor
from opencdmo.engines.bioprocess.simulator import BatchResult, BatchSpec, simulate

TWIN_SEED = 7

TWIN_FAULTS: dict[str, Fault] = {
    "do_probe_drift": Fault("do_probe_drift", 120.0, 336.0, -20.0),
    "ph_probe_bias": Fault("ph_probe_bias", 120.0, 336.0, 0.15),
    "feed_pump_failure": Fault("feed_pump_failure", 96.0, 192.0, 0.8),
    "over_feed": Fault("over_feed", 96.0, 144.0, 0.5),
    "temperature_controller_failure": Fault("temperature_controller_failure", 120.0, 200.0, -4.0),
    "agitation_failure": Fault("agitation_failure", 120.0, 200.0, 0.5),
    "contamination": Fault("contamination", 150.0, 336.0, 1.5),
    "co2_accumulation": Fault("co2_accumulation", 120.0, 336.0, 0.8),
}


@pytest.fixture(scope="session")
def normal_batches() -> list[BatchResult]:
    """Twelve normal 14-day batches at 2,000 L, three in each operating regime."""
    return generate(GeneratorConfig(batches=12, seed=11))


@pytest.fixture(scope="session")
def fault_twins() -> dict[str, BatchResult]:
    """One batch per fault kind plus its fault-free twin ("normal"), all with one seed."""
    reactor = bioreactor(2000.0)
    specs = [BatchSpec("normal", reactor, seed=TWIN_SEED)]
    specs += [
        BatchSpec(kind, reactor, seed=TWIN_SEED, faults=(fault,))
        for kind, fault in TWIN_FAULTS.items()
    ]
    return {result.spec.batch_id: result for result in simulate(specs)}
