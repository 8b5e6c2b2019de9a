"""Fed-batch CHO monoclonal-antibody bioreactor simulator (digital twin) with labelled faults.

Pure engine: dataclasses and numpy arrays in and out, no Django and no database. The
simulator integrates a mechanistic CHO model (growth, death, glucose, glutamine, lactate
with its metabolic shift, ammonium, antibody, osmolality, DO, dissolved CO₂ and pH,
temperature, volume) under DCS-like control (DO cascade, split-range pH, jacket
temperature with shift, bolus or continuous feeds, daily samples with glucose top-up),
from 2 L to 20,000 L, with batch-to-batch variability and labelled faults.

Typical use::

    from opencdmo.engines.bioprocess import (
        BatchSpec, Fault, GeneratorConfig, bioreactor, generate, scale_up_check, simulate,
        write_dataset,
    )

    reactor = bioreactor(2000.0, "single_use")
    result = simulate([BatchSpec("B1", reactor, seed=1,
                                 faults=(Fault("ph_probe_bias", 120.0, 336.0, 0.15),))])[0]
    result.online["ph"], result.offline["titer_g_l"], result.glucose_balance

    scale_up_check(bioreactor(15000.0, "stainless")).reasons

    results = generate(GeneratorConfig(batches=100, faulty=10, seed=7), workers=2)
    write_dataset("out", results, "both")
"""

from __future__ import annotations

from opencdmo.engines.bioprocess.errors import IntegrationError, InvalidInputError
from opencdmo.engines.bioprocess.faults import FAULT_KINDS, Fault, FaultKind
from opencdmo.engines.bioprocess.generator import (
    REGIMES,
    GeneratorConfig,
    generate,
    plan_batches,
    regime_recipe,
)
from opencdmo.engines.bioprocess.kinetics import KineticParameters
from opencdmo.engines.bioprocess.output import (
    faults_table,
    long_table,
    summary_table,
    write_dataset,
)
from opencdmo.engines.bioprocess.reactor import Bioreactor, bioreactor
from opencdmo.engines.bioprocess.recipe import FeedPlan, ProcessRecipe
from opencdmo.engines.bioprocess.scale import ScaleUpReport, scale_up_check
from opencdmo.engines.bioprocess.sensors import OFFLINE_ASSAYS, ONLINE_SENSORS, Measurement
from opencdmo.engines.bioprocess.simulator import (
    TRUE_VARIABLES,
    BatchResult,
    BatchSpec,
    GlucoseBalance,
    SimulationSettings,
    simulate,
)
from opencdmo.engines.bioprocess.variability import (
    NO_VARIATION,
    BatchVariation,
    RawMaterialLot,
    sample_lot,
    sample_variation,
)

__all__ = [
    "FAULT_KINDS",
    "NO_VARIATION",
    "OFFLINE_ASSAYS",
    "ONLINE_SENSORS",
    "REGIMES",
    "TRUE_VARIABLES",
    "BatchResult",
    "BatchSpec",
    "BatchVariation",
    "Bioreactor",
    "Fault",
    "FaultKind",
    "FeedPlan",
    "GeneratorConfig",
    "GlucoseBalance",
    "IntegrationError",
    "InvalidInputError",
    "KineticParameters",
    "Measurement",
    "ProcessRecipe",
    "RawMaterialLot",
    "ScaleUpReport",
    "SimulationSettings",
    "bioreactor",
    "faults_table",
    "generate",
    "long_table",
    "plan_batches",
    "regime_recipe",
    "sample_lot",
    "sample_variation",
    "scale_up_check",
    "simulate",
    "summary_table",
    "write_dataset",
]
