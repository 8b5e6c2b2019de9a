"""Saving and loading fitted models as a versioned JSON document plus an ``.npz`` of arrays.

No pickle is involved: the JSON holds the model kind, its parameters, names, units, a
training summary (observations, R², limits at 95 % and 99 %) and the caller's metadata; the
``.npz`` (read with ``allow_pickle=False``) holds the numbers. A model saved as
``model.json`` has its arrays in ``model.npz`` beside it. Both are written atomically
(:mod:`opencdmo.core.files`), the arrays first, so a reader never sees half a model.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from opencdmo.core.files import write_atomically, write_text

from .batch import MPCA, MPLS
from .errors import MonitoringInputError
from .latent import PCA, PLS
from .scaling import Autoscaler

__all__ = ["FORMAT", "FORMAT_VERSION", "load_model", "save_model"]

FORMAT = "opencdmo.monitoring.model"
FORMAT_VERSION = 1

Model = PCA | PLS | MPCA | MPLS

_LATENT_ARRAYS = (
    "scores_", "loadings_", "_weights", "score_sd_", "t2_", "spe_", "r2_", "r2_cumulative_",
    "n_iterations_",
)  # fmt: skip
_PCA_ARRAYS = ("r2_per_variable_", "explained_variance_")
_PLS_ARRAYS = (
    "y_scores_", "y_loadings_", "r2x_cumulative_", "y_train_scaled_", "r2_per_variable_",
    "r2y_per_variable_",
)  # fmt: skip


def _latent_state(model: PCA | PLS, prefix: str, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    names = _LATENT_ARRAYS + (_PLS_ARRAYS if isinstance(model, PLS) else _PCA_ARRAYS)
    for name in names:
        arrays[prefix + name] = np.asarray(getattr(model, name))
    arrays[prefix + "center"] = model.scaler_.center_
    arrays[prefix + "scale"] = model.scaler_.scale_
    state: dict[str, Any] = {
        "kind": type(model).__name__,
        "n_components": int(model.n_components),
        "scale": bool(model.scale),
        "tol": float(model.tol),
        "max_iter": int(model.max_iter),
        "allow_constant": bool(model.allow_constant),
        "variable_names": list(model.variable_names_),
        "n_observations": int(model.n_observations_),
        "residual_theta": list(model.residual_theta_),
        "sequential": bool(model.sequential_),
    }
    if isinstance(model, PCA):
        state["algorithm"] = model.algorithm
    else:
        state["response_names"] = list(model.response_names_)
        arrays[prefix + "y_center"] = model.y_scaler_.center_
        arrays[prefix + "y_scale"] = model.y_scaler_.scale_
    return state


def _restore_latent(
    state: Mapping[str, Any], prefix: str, arrays: Mapping[str, np.ndarray]
) -> PCA | PLS:
    model: PCA | PLS
    names: tuple[str, ...]
    if state["kind"] == "PCA":
        model = PCA(
            state["n_components"], scale=state["scale"], algorithm=state["algorithm"],
            tol=state["tol"], max_iter=state["max_iter"], allow_constant=state["allow_constant"],
        )  # fmt: skip
        names = _LATENT_ARRAYS + _PCA_ARRAYS
    elif state["kind"] == "PLS":
        model = PLS(
            state["n_components"], scale=state["scale"], tol=state["tol"],
            max_iter=state["max_iter"], allow_constant=state["allow_constant"],
        )  # fmt: skip
        names = _LATENT_ARRAYS + _PLS_ARRAYS
        model.response_names_ = list(state["response_names"])
        model.y_scaler_ = Autoscaler(arrays[prefix + "y_center"], arrays[prefix + "y_scale"])
    else:
        raise MonitoringInputError(f"unknown latent model kind {state['kind']!r} in the file.")
    for name in names:
        setattr(model, name, arrays[prefix + name])
    model.scaler_ = Autoscaler(arrays[prefix + "center"], arrays[prefix + "scale"])
    model.variable_names_ = list(state["variable_names"])
    model.n_observations_ = int(state["n_observations"])
    theta = state["residual_theta"]
    model.residual_theta_ = (float(theta[0]), float(theta[1]), float(theta[2]))
    model.sequential_ = bool(state["sequential"])
    return model


def _training_summary(model: PCA | PLS) -> dict[str, Any]:
    """What a reader of the file wants to know without loading the arrays."""
    return {
        "n_observations": int(model.n_observations_),
        "n_variables": len(model.variable_names_),
        "n_components": int(model.scores_.shape[1]),
        "r2_cumulative": [float(v) for v in model.r2_cumulative_],
        "limits": {
            str(level): {
                "t2": model.t2_limit(level),
                "spe_box": model.spe_limit(level, "box"),
                "spe_empirical": model.spe_limit(level, "empirical"),
            }
            for level in (0.95, 0.99)
        },
    }


def _paths(path: str | Path) -> tuple[Path, Path]:
    base = Path(path)
    if base.suffix.lower() in {".json", ".npz"}:
        base = base.with_suffix("")
    return base.with_suffix(".json"), base.with_suffix(".npz")


def save_model(
    model: Model, path: str | Path, metadata: Mapping[str, Any] | None = None
) -> tuple[Path, Path]:
    """Write ``model`` to ``<path>.json`` and ``<path>.npz``.

    Parameters
    ----------
    model : PCA, PLS, MPCA or MPLS
        A fitted model.
    path : str or Path
        File name with or without ``.json``.
    metadata : mapping, optional
        JSON-serialisable training metadata (product, site, data set, who, when, ...),
        stored as given.

    Returns
    -------
    (Path, Path)
        The JSON and npz files written.
    """
    if not hasattr(model, "model_") and not hasattr(model, "scores_"):
        raise MonitoringInputError("only a fitted model can be saved: call fit first.")
    arrays: dict[str, np.ndarray] = {}
    document: dict[str, Any] = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "kind": type(model).__name__,
        "metadata": dict(metadata or {}),
    }
    latent_model = model.model_ if isinstance(model, MPCA | MPLS) else model
    document["training"] = _training_summary(latent_model)
    if isinstance(model, MPCA | MPLS):
        document["batch"] = {
            "n_components": int(model.n_components),
            "scale": bool(model.scale),
            "batch_ids": list(model.batch_ids_),
            "variables": list(model.variables_),
            "units": dict(model.units_),
            "n_samples": int(model.n_samples_),
            "scale_floor": model.scale_floor,
        }
        if isinstance(model, MPCA):
            document["batch"]["algorithm"] = model.algorithm
        arrays["batch.axis"] = model.axis_
        if model.spe_cv_ is not None:
            arrays["batch.spe_cv"] = model.spe_cv_
        document["latent"] = _latent_state(model.model_, "latent.", arrays)
    else:
        document["latent"] = _latent_state(model, "latent.", arrays)
    json_path, npz_path = _paths(path)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        text = json.dumps(document, indent=2, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise MonitoringInputError(f"metadata must be JSON-serialisable: {exc}") from exc
    stored: dict[str, Any] = dict(arrays)
    write_atomically(npz_path, lambda handle: np.savez_compressed(handle, **stored))
    write_text(json_path, text + "\n")
    return json_path, npz_path


def load_model(path: str | Path) -> Model:
    """Read a model written by :func:`save_model`.

    Raises
    ------
    MonitoringInputError
        If a file is missing, not a model of this format, or of a newer version.
    """
    json_path, npz_path = _paths(path)
    for file in (json_path, npz_path):
        if not file.is_file():
            raise MonitoringInputError(f"{file}: no such file.")
    try:
        document = json.loads(json_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise MonitoringInputError(f"{json_path}: not valid JSON ({exc}).") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise MonitoringInputError(f"{json_path}: not an opencdmo monitoring model file.")
    if int(document.get("version", 0)) > FORMAT_VERSION:
        raise MonitoringInputError(
            f"{json_path}: format version {document['version']} is newer than this engine "
            f"reads ({FORMAT_VERSION})."
        )
    with np.load(npz_path, allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    latent = _restore_latent(document["latent"], "latent.", arrays)
    metadata = dict(document.get("metadata", {}))
    latent.metadata_ = metadata
    kind = document["kind"]
    if kind in {"PCA", "PLS"}:
        return latent
    if kind not in {"MPCA", "MPLS"}:
        raise MonitoringInputError(f"{json_path}: unknown model kind {kind!r}.")
    spec = document["batch"]
    batch_model: MPCA | MPLS = (
        MPCA(
            spec["n_components"],
            scale=spec["scale"],
            algorithm=spec["algorithm"],
            scale_floor=spec.get("scale_floor"),
        )
        if kind == "MPCA"
        else MPLS(spec["n_components"], scale=spec["scale"], scale_floor=spec.get("scale_floor"))
    )
    batch_model.model_ = latent
    batch_model.batch_ids_ = tuple(spec["batch_ids"])
    batch_model.variables_ = tuple(spec["variables"])
    batch_model.units_ = dict(spec["units"])
    batch_model.n_samples_ = int(spec["n_samples"])
    batch_model.axis_ = arrays["batch.axis"]
    batch_model.spe_cv_ = arrays.get("batch.spe_cv")
    batch_model.metadata_ = metadata
    return batch_model
