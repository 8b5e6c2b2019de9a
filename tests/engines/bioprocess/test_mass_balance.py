"""Mass balances close: glucose in = glucose consumed + remaining + sampled."""

from __future__ import annotations

from opencdmo.engines.bioprocess.simulator import BatchResult


def test_glucose_balance_closes_in_normal_batches(normal_batches: list[BatchResult]) -> None:
    """Initial + fed glucose equals consumed + remaining + sampled to rounding error."""
    for result in normal_batches:
        balance = result.glucose_balance
        total = balance.initial_mmol + balance.fed_mmol
        assert balance.fed_mmol > balance.initial_mmol
        assert balance.consumed_mmol > 0.5 * total
        assert abs(balance.closure_error_mmol) <= 1e-9 * total, result.spec.batch_id


def test_glucose_balance_closes_with_feed_faults_and_contamination(
    fault_twins: dict[str, BatchResult],
) -> None:
    """The balance also closes when feeds fail, over-feed or a contaminant takes up glucose."""
    for name in ("feed_pump_failure", "over_feed", "contamination"):
        balance = fault_twins[name].glucose_balance
        total = balance.initial_mmol + balance.fed_mmol
        assert abs(balance.closure_error_mmol) <= 1e-9 * total, name


def test_volume_follows_feeds_base_glucose_and_samples(fault_twins: dict[str, BatchResult]) -> None:
    """Harvest volume equals initial volume plus additions minus daily samples (within noise)."""
    result = fault_twins["normal"]
    recipe = result.spec.recipe
    v0 = recipe.initial_volume_l(result.spec.reactor)
    samples = recipe.sample_volume_ml / 1000.0 * (len(result.sample_time_h))
    expected = (
        v0
        + result.online["feed_added_l"][-1]
        + result.online["base_added_l"][-1]
        + result.glucose_added_l
        - samples
    )
    assert abs(result.true["volume_l"][-1] - expected) < 0.005 * expected
