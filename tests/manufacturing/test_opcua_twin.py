"""The twin's readings and history, without starting a server."""

from __future__ import annotations

import asyncio
import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from asyncua import ua

from opencdmo.manufacturing.opcua.twin import (
    TWIN_VARIABLES,
    Readings,
    Twin,
    TwinConfig,
    _History,
    compute_readings,
    node_id,
    parse_fault,
)

CONFIG = TwinConfig(lots=("T-1", "T-2"), interval_s=600.0, seed=3)


@pytest.fixture(scope="module")
def readings() -> Readings:
    return compute_readings(CONFIG)


def test_the_same_seed_and_lots_give_the_same_readings(readings: Readings) -> None:
    """A twin started again serves exactly what it served before."""
    again = compute_readings(CONFIG)
    assert np.array_equal(readings.values, again.values)
    assert readings.values.shape == (2, len(TWIN_VARIABLES), 14 * 24 * 6 + 1)
    assert not np.isnan(readings.values).any()


def test_history_holds_every_reading_up_to_the_present_and_none_after(
    readings: Readings,
) -> None:
    """HistoryRead answers readings from hour 0 to the accelerated clock's present, each
    stamped with its culture time from hour 0."""
    start = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=30)
    twin = Twin(
        TwinConfig(lots=CONFIG.lots, interval_s=600.0, seed=3, start=start, speed=600.0), readings
    )
    twin.published = twin.due()
    assert twin.published == 30  # 30 s x 600 = 5 h = 30 readings of 10 min after hour 0
    node = ua.NodeId.from_string(node_id("T-2", "ph"))
    history = _History(twin).read_node_history(node, start - dt.timedelta(hours=1), None, 0)
    # A thread of its own: a browser test earlier in this worker may leave a loop running here.
    with ThreadPoolExecutor(1) as thread:
        values, more = thread.submit(asyncio.run, history).result()
    assert more is None
    assert len(values) == 31
    assert values[0].SourceTimestamp == start
    assert values[-1].SourceTimestamp == start + dt.timedelta(hours=5)
    ph = TWIN_VARIABLES.index(next(m for m in TWIN_VARIABLES if m.name == "ph"))
    assert [v.Value.Value for v in values] == readings.values[1, ph, :31].tolist()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("ph_probe_bias:100:200", "is not KIND:START_H:END_H:MAGNITUDE"),
        ("ph_probe_bias:a:200:0.1", "no number"),
    ],
)
def test_a_bad_fault_is_refused_naming_the_option(text: str, words: str) -> None:
    with pytest.raises(ValueError, match="fault:") as refused:
        parse_fault(text)
    assert words in str(refused.value)
