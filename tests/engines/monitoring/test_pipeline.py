"""The engine's file-to-verdict pipeline: progress, cancellation, limits for new batches."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from opencdmo.engines.monitoring import (
    FitOptions,
    MonitoringInputError,
    ReadOptions,
    align_batches,
    fit_batch_file,
    held_out_limit,
    read_batches,
    score_batch_file,
)
from opencdmo.engines.progress import CancelledError, CancelToken, Progress

from .conftest import BATCH


def _wide_batches(path: Path, n_batches: int, n_times: int = 40, seed: int = 0) -> Path:
    """Smooth batches with batch-to-batch variation, one row per (batch, time)."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, n_times)
    lines = ["batch,time,a,b,c,d"]
    for b in range(n_batches):
        level, slope = rng.normal(0, 0.3, 2)
        for k, time_h in enumerate(t * 100.0):
            a = np.sin(3 * t[k]) + level + rng.normal(0, 0.05)
            bb = t[k] * (1 + slope) + rng.normal(0, 0.05)
            c = a + bb + rng.normal(0, 0.05)
            d = np.cos(2 * t[k]) + 0.5 * level + rng.normal(0, 0.05)
            lines.append(f"B{b:03d},{time_h:.3f},{a:.5f},{bb:.5f},{c:.5f},{d:.5f}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_progress_events_arrive_in_order_with_fractions_rising_to_one(tmp_path: Path) -> None:
    """A fit reports reading, alignment, every fold and the write, never going back, ending at 1."""
    data = _wide_batches(tmp_path / "train.csv", 12)
    events: list[Progress] = []
    fit_batch_file(data, tmp_path / "model.json", progress=events.append)
    fractions = [e.fraction for e in events]
    assert all(f is not None for f in fractions)
    assert fractions == sorted(fractions)  # type: ignore[type-var]
    assert fractions[-1] == 1.0
    messages = [e.message for e in events]
    assert messages[0].startswith("reading")
    assert any(m.startswith("read 12 batches") for m in messages)
    assert sum(m.startswith("cross-validated fold") for m in messages) == 12
    assert messages[-1].startswith("wrote")
    scored: list[Progress] = []
    score_batch_file(data, tmp_path / "model.json", progress=scored.append)
    assert [e.fraction for e in scored] == sorted(e.fraction or 0.0 for e in scored)
    assert scored[-1].fraction == 1.0


def test_cancel_from_another_thread_stops_the_fit_promptly_and_writes_nothing(
    tmp_path: Path,
) -> None:
    """Cancelled during cross-validation, the fit raises within a fold and leaves no file."""
    data = _wide_batches(tmp_path / "train.csv", 30)
    token = CancelToken()
    first_fold = threading.Event()
    folds_after_cancel: list[str] = []

    def watch(progress: Progress) -> None:
        if token.cancelled:
            folds_after_cancel.append(progress.message)
        if progress.message.startswith("cross-validated fold"):
            first_fold.set()
            time.sleep(0.05)

    def cancel_at_first_fold() -> None:
        first_fold.wait(30)
        token.cancel()

    canceller = threading.Thread(target=cancel_at_first_fold)
    canceller.start()
    with pytest.raises(CancelledError):
        fit_batch_file(
            data,
            tmp_path / "model.json",
            options=FitOptions(folds=30),
            progress=watch,
            cancel=token,
        )
    canceller.join()
    assert len(folds_after_cancel) <= 1
    assert not list(tmp_path.glob("model*"))


def test_a_cancelled_token_stops_alignment_before_any_batch(tmp_path: Path) -> None:
    """Alignment checks the token before each batch."""
    dataset = read_batches(_wide_batches(tmp_path / "train.csv", 4))
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        align_batches(dataset, "linear", cancel=token)


def test_held_out_limit_sets_aside_an_abnormal_training_batch() -> None:
    """One huge held-out SPE hardly moves the limit; without the guard it would dominate it."""
    rng = np.random.default_rng(3)
    normal = rng.chisquare(8, 30)
    with_outlier = np.append(normal, 1e4)
    assert held_out_limit(with_outlier, 0.99) == pytest.approx(held_out_limit(normal, 0.99))
    assert held_out_limit(normal, 0.99) < 3 * np.quantile(normal, 0.99)


def test_cross_validated_limits_are_wider_than_training_ones_on_nylon(tmp_path: Path) -> None:
    """Held-out batches give wider SPE and T² limits than the fitted batches."""
    reading = ReadOptions()
    options = {"n_components": 3, "n_samples": 100}
    held_out = fit_batch_file(
        BATCH / "nylon.csv",
        tmp_path / "cv",
        reading,
        FitOptions(**options),  # type: ignore[arg-type]
    )
    fitted = fit_batch_file(
        BATCH / "nylon.csv",
        tmp_path / "training",
        reading,
        FitOptions(limits="training", **options),  # type: ignore[arg-type]
    )
    assert held_out.report.limits.spe > fitted.report.limits.spe
    assert held_out.report.limits.t2 > fitted.report.limits.t2
    assert {"53", "54"} <= set(held_out.report.flagged)


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"n_components": 0}, "components"),
        ({"confidence": 1.5}, "confidence"),
        ({"limits": "loose"}, "limits"),
        ({"folds": 1}, "folds"),
    ],
)
def test_bad_fit_options_name_the_field(options: dict[str, object], field: str) -> None:
    """Impossible options are refused with the option's name."""
    with pytest.raises(MonitoringInputError, match=field):
        FitOptions(**options)  # type: ignore[arg-type]
