"""Cross-validated component selection, and saving and loading fitted models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from opencdmo.engines.monitoring import (
    MPCA,
    MPLS,
    PCA,
    PLS,
    BatchDataset,
    MonitoringInputError,
    align_linear,
)
from opencdmo.engines.monitoring.crossval import contiguous_folds, select_n_components
from opencdmo.engines.monitoring.persistence import load_model, save_model


def test_cross_validation_picks_nine_components_on_tennessee_eastman(te_train: np.ndarray) -> None:
    """Element-wise PCA cross-validation peaks at 9 components on TE (Q²cum 0.275)."""
    result = select_n_components(te_train, max_components=12)
    assert result.n_components == 9
    assert result.q2_cumulative[8] == pytest.approx(0.275, abs=0.002)
    assert result.q2_cumulative[11] < result.q2_cumulative[8]
    assert result.q2_per_variable.shape == (52, 12)
    assert result.q2_per_variable[:, 8].max() == pytest.approx(0.882, abs=0.002)


def test_cross_validation_finds_the_true_rank() -> None:
    """Three latent factors plus noise give three components for PCA and PLS."""
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(90, 3))
    X = scores @ rng.normal(size=(3, 12)) + 0.1 * rng.normal(size=(90, 12))
    assert select_n_components(X, max_components=6).n_components == 3
    y = scores @ np.array([1.0, -0.5, 0.8]) + 0.05 * rng.normal(size=90)
    pls = select_n_components(X, y, max_components=6, groups=np.arange(90) % 6)
    assert pls.n_components == 3
    assert pls.q2_cumulative[2] > 0.95


def test_folds_are_contiguous() -> None:
    """Contiguous folds cover every row once, in order."""
    folds = contiguous_folds(10, 3)
    assert [f.tolist() for f in folds] == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]
    with pytest.raises(MonitoringInputError, match="between 2 and 10"):
        contiguous_folds(10, 11)


def test_pca_and_pls_round_trip(tmp_path: Path, te_train: np.ndarray) -> None:
    """A saved PCA or PLS gives the same scores, T², SPE, limits and predictions."""
    pca = PCA(5).fit(te_train[:300])
    save_model(pca, tmp_path / "pca", metadata={"site": "Basel", "data": "d00"})
    loaded = load_model(tmp_path / "pca.json")
    assert isinstance(loaded, PCA)
    new = te_train[300:]
    np.testing.assert_allclose(loaded.t2(new), pca.t2(new))
    np.testing.assert_allclose(loaded.spe(new), pca.spe(new))
    assert loaded.spe_limit(0.99, "jackson-mudholkar") == pytest.approx(
        pca.spe_limit(0.99, "jackson-mudholkar")
    )
    assert loaded.metadata_ == {"site": "Basel", "data": "d00"}
    pls = PLS(3).fit(te_train[:, :30], te_train[:, 30:33])
    save_model(pls, tmp_path / "pls.json")
    restored = load_model(tmp_path / "pls.json")
    assert isinstance(restored, PLS)
    np.testing.assert_allclose(restored.predict(te_train[:, :30]), pls.predict(te_train[:, :30]))


def test_batch_models_round_trip(tmp_path: Path, nylon: BatchDataset) -> None:
    """A saved MPCA/MPLS scores batches exactly as before, with names and units kept."""
    aligned = align_linear(nylon, 60)
    mpca = MPCA(3).fit(aligned, spe_folds=4)
    json_path, npz_path = save_model(mpca, tmp_path / "nylon")
    document = json.loads(json_path.read_text())
    assert document["format"] == "opencdmo.monitoring.model"
    assert document["version"] == 1
    assert document["batch"]["variables"][0] == "Tag01"
    assert document["training"]["n_observations"] == 57
    assert document["training"]["limits"]["0.99"]["t2"] == pytest.approx(mpca.t2_limit(0.99))
    with np.load(npz_path, allow_pickle=False) as arrays:
        assert "latent.loadings_" in arrays.files
    loaded = load_model(json_path)
    assert isinstance(loaded, MPCA)
    before = mpca.score_batches(aligned, 0.99)
    after = loaded.score_batches(aligned, 0.99)
    np.testing.assert_allclose(after.spe_contributions, before.spe_contributions)
    assert after.flagged == before.flagged
    assert loaded.spe_limit(0.99, cross_validated=True) == mpca.spe_limit(
        0.99, cross_validated=True
    )
    mpls = MPLS(2).fit(aligned, aligned.values[:, -1, 3])
    save_model(mpls, tmp_path / "mpls")
    restored = load_model(tmp_path / "mpls")
    assert isinstance(restored, MPLS)
    np.testing.assert_allclose(restored.predict(aligned), mpls.predict(aligned))


def test_loading_bad_files_is_refused(tmp_path: Path, te_train: np.ndarray) -> None:
    """Missing files, foreign JSON and newer versions are refused naming the file."""
    with pytest.raises(MonitoringInputError, match=r"absent\.json: no such file"):
        load_model(tmp_path / "absent.json")
    json_path, _ = save_model(PCA(2).fit(te_train), tmp_path / "m")
    document = json.loads(json_path.read_text())
    document["version"] = 99
    json_path.write_text(json.dumps(document))
    with pytest.raises(MonitoringInputError, match="version 99 is newer"):
        load_model(json_path)
    json_path.write_text(json.dumps({"hello": 1}))
    with pytest.raises(MonitoringInputError, match="not an opencdmo monitoring model file"):
        load_model(json_path)
    with pytest.raises(MonitoringInputError, match="only a fitted model"):
        save_model(PCA(2), tmp_path / "unfitted")


def test_a_save_that_fails_leaves_the_earlier_model_whole(
    tmp_path: Path, te_train: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Arrays that fail half-written leave the model saved before loadable and no stray file."""
    save_model(PCA(2).fit(te_train), tmp_path / "m", metadata={"version": 1})
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def fail_half_way(handle: Any, **arrays: np.ndarray) -> None:
        handle.write(b"PK\x03\x04 half an archive")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", fail_half_way)
    with pytest.raises(OSError, match="disk full"):
        save_model(PCA(3).fit(te_train), tmp_path / "m", metadata={"version": 2})
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    assert load_model(tmp_path / "m.json").metadata_ == {"version": 1}
