"""``opencdmo monitor``: fit and score monitoring models from files, without a database.

``fit`` reads batch data (long or wide CSV/Parquet/Excel), aligns it, fits an MPCA (or a PCA
of a continuous-process table) and writes a model file; ``score`` scores new data against
it. JSON goes to stdout, messages to stderr; bad input exits with status 2 and a message
naming the file, column, batch or variable.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .alignment import AlignedBatches, align_indicator, align_linear, align_phases
from .batch import MPCA
from .dataset import BatchDataset, read_batch_file
from .dtw import align_dtw, warp_to_reference
from .errors import MonitoringInputError
from .latent import PCA
from .persistence import load_model, save_model
from .tables import column_as_float, read_table

__all__ = ["main"]


def _note(message: str) -> None:
    """Progress message on stderr (stdout carries only the JSON result)."""
    print(message, file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="opencdmo monitor",
        description="Fit and score multivariate monitoring models from CSV, Parquet or Excel files. JSON on stdout, messages on stderr.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    fit = commands.add_parser("fit", help="fit a model and write it to a file")
    fit.add_argument("data", type=Path, help="CSV, Parquet or .xlsx file")
    fit.add_argument("--out", type=Path, required=True, help="model file to write (.json)")
    fit.add_argument("--kind", choices=["mpca", "pca"], default="mpca")
    fit.add_argument("--components", type=int, default=2)
    fit.add_argument(
        "--align",
        default="linear",
        help="linear, phase, dtw or indicator:VARIABLE (batch data only)",
    )
    fit.add_argument("--samples", type=int, help="aligned length (default: median batch length)")
    fit.add_argument("--confidence", type=float, default=0.99)
    fit.add_argument(
        "--scale-floor",
        type=float,
        help="smallest column scale as a fraction of the variable's SD (MPCA; e.g. 0.05)",
    )
    fit.add_argument(
        "--spe-folds",
        type=int,
        help="take the SPE limit from batches held out in this many folds (MPCA)",
    )
    _reading_options(fit)
    score = commands.add_parser("score", help="score new data against a model file")
    score.add_argument("data", type=Path)
    score.add_argument("--model", type=Path, required=True)
    score.add_argument("--confidence", type=float, default=0.99)
    _reading_options(score)
    return parser


def _reading_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--layout", choices=["auto", "long", "wide"], default="auto")
    parser.add_argument("--batch-column")
    parser.add_argument("--time-column")
    parser.add_argument("--phase-column")
    parser.add_argument("--variables", help="comma-separated variable columns to use")
    parser.add_argument("--sheet", help="Excel sheet (default: the first)")


def _variables(text: str | None) -> list[str] | None:
    return None if not text else [v.strip() for v in text.split(",") if v.strip()]


def _read_batches(args: argparse.Namespace, variables: Sequence[str] | None = None) -> BatchDataset:
    dataset = read_batch_file(
        args.data,
        layout=args.layout,
        batch_column=args.batch_column,
        time_column=args.time_column,
        phase_column=args.phase_column,
        variables=None if args.layout == "long" else (variables or _variables(args.variables)),
        sheet=args.sheet,
    )
    wanted = variables or _variables(args.variables)
    return dataset.with_variables(wanted) if wanted else dataset


def _read_matrix(
    path: Path, names: Sequence[str] | None, sheet: str | None
) -> tuple[np.ndarray, list[str]]:
    table = read_table(path, sheet=sheet)
    columns = list(names) if names else [c for c, v in table.items() if v.dtype == float]
    if not columns:
        raise MonitoringInputError(f"{path}: no numeric column found.")
    return np.column_stack([column_as_float(table, c, str(path)) for c in columns]), columns


def _align(
    dataset: BatchDataset, method: str, samples: int | None
) -> tuple[AlignedBatches, dict[str, Any]]:
    if method == "linear":
        aligned = align_linear(dataset, samples)
        return aligned, {"method": "linear", "n_samples": aligned.n_samples}
    if method == "phase":
        aligned = align_phases(dataset)
        spans = {s.phase: s.stop - s.start for s in aligned.phases}
        return aligned, {"method": "phase", "samples_per_phase": spans}
    if method == "dtw":
        result = align_dtw(dataset)
        return result.aligned, {
            "method": "dtw",
            "reference": result.reference.tolist(),
            "weights": result.weights.tolist(),
            "scale": result.scale.tolist(),
        }
    if method.startswith("indicator:"):
        indicator = method.split(":", 1)[1]
        aligned = align_indicator(dataset, indicator, samples)
        return aligned, {
            "method": "indicator",
            "indicator": indicator,
            "start": float(aligned.axis[0]),
            "stop": float(aligned.axis[-1]),
            "n_samples": aligned.n_samples,
        }
    raise MonitoringInputError(
        f"unknown alignment {method!r}: use linear, phase, dtw or indicator:VARIABLE."
    )


def _realign(dataset: BatchDataset, spec: dict[str, Any]) -> AlignedBatches:
    method = spec.get("method")
    if method == "linear":
        return align_linear(dataset, int(spec["n_samples"]))
    if method == "phase":
        return align_phases(
            dataset, spec["samples_per_phase"], phase_order=list(spec["samples_per_phase"])
        )
    if method == "dtw":
        return warp_to_reference(
            dataset, np.array(spec["reference"]), np.array(spec["weights"]), np.array(spec["scale"])
        )
    if method == "indicator":
        return align_indicator(
            dataset,
            spec["indicator"],
            int(spec["n_samples"]),
            start=spec["start"],
            stop=spec["stop"],
        )
    raise MonitoringInputError(f"the model file records an unknown alignment {method!r}.")


def _batch_report(model: MPCA, aligned: AlignedBatches, confidence: float) -> dict[str, Any]:
    cross_validated = model.spe_cv_ is not None
    result = model.score_batches(aligned, confidence, cross_validated=cross_validated)
    batches = []
    for i, batch_id in enumerate(result.batch_ids):
        batches.append(
            {
                "batch": batch_id,
                "t2": float(result.t2[i]),
                "spe": float(result.spe[i]),
                "t2_alarm": bool(result.t2_alarm[i]),
                "spe_alarm": bool(result.spe_alarm[i]),
                "top_spe_variables": result.top_variables(batch_id, "spe", 3),
                "top_t2_variables": result.top_variables(batch_id, "t2", 3),
            }
        )
    return {
        "confidence": confidence,
        "t2_limit": result.t2_limit,
        "spe_limit": result.spe_limit,
        "spe_limit_from": "cross-validated SPE" if cross_validated else "training SPE",
        "flagged": result.flagged,
        "batches": batches,
    }


def _fit(args: argparse.Namespace) -> dict[str, Any]:
    if args.kind == "pca":
        X, names = _read_matrix(args.data, _variables(args.variables), args.sheet)
        model = PCA(args.components).fit(X, names)
        metadata: dict[str, Any] = {"source": str(args.data), "kind": "pca", "variables": names}
        json_path, _ = save_model(model, args.out, metadata)
        return {
            "model": str(json_path),
            "kind": "pca",
            "n_observations": int(X.shape[0]),
            "variables": names,
            "n_components": args.components,
            "r2_cumulative": model.r2_cumulative_.tolist(),
            "t2_limit": model.t2_limit(args.confidence),
            "spe_limit": model.spe_limit(args.confidence, "jackson-mudholkar"),
            "training_alarm_rate": float(
                np.mean(
                    (model.t2_ > model.t2_limit(args.confidence))
                    | (model.spe_ > model.spe_limit(args.confidence, "jackson-mudholkar"))
                )
            ),
        }
    dataset = _read_batches(args)
    _note(f"read {len(dataset)} batches of {len(dataset.variables)} variables from {args.data}")
    aligned, alignment = _align(dataset, args.align, args.samples)
    mpca = MPCA(args.components, scale_floor=args.scale_floor).fit(
        aligned, spe_folds=args.spe_folds
    )
    reading = {
        "layout": args.layout,
        "batch_column": args.batch_column,
        "time_column": args.time_column,
        "phase_column": args.phase_column,
        "variables": list(dataset.variables),
    }
    metadata = {
        "source": str(args.data),
        "kind": "mpca",
        "alignment": alignment,
        "reading": reading,
    }
    json_path, _ = save_model(mpca, args.out, metadata)
    report = _batch_report(mpca, aligned, args.confidence)
    return {
        "model": str(json_path),
        "kind": "mpca",
        "n_batches": len(dataset),
        "variables": list(dataset.variables),
        "units": dict(dataset.units),
        "aligned_samples": aligned.n_samples,
        "alignment": alignment["method"],
        "n_components": args.components,
        "r2_cumulative": mpca.model_.r2_cumulative_.tolist(),
        **report,
    }


def _score(args: argparse.Namespace) -> dict[str, Any]:
    model = load_model(args.model)
    metadata = model.metadata_
    if isinstance(model, MPCA):
        reading = metadata.get("reading", {})
        for option in ("layout", "batch_column", "time_column", "phase_column"):
            if getattr(args, option) in (None, "auto"):
                setattr(args, option, reading.get(option) or getattr(args, option))
        dataset = _read_batches(args, reading.get("variables") or list(model.variables_))
        aligned = _realign(
            dataset, metadata.get("alignment", {"method": "linear", "n_samples": model.n_samples_})
        )
        return {
            "model": str(args.model),
            "kind": "mpca",
            **_batch_report(model, aligned, args.confidence),
        }
    if isinstance(model, PCA):
        X, _ = _read_matrix(args.data, model.variable_names_, args.sheet)
        t2 = model.t2(X)
        spe = model.spe(X)
        t2_lim = model.t2_limit(args.confidence)
        spe_lim = model.spe_limit(args.confidence, "jackson-mudholkar")
        return {
            "model": str(args.model),
            "kind": "pca",
            "confidence": args.confidence,
            "t2_limit": t2_lim,
            "spe_limit": spe_lim,
            "n_observations": int(X.shape[0]),
            "t2_alarm_rate": float(np.mean(t2 > t2_lim)),
            "spe_alarm_rate": float(np.mean(spe > spe_lim)),
            "t2": t2.tolist(),
            "spe": spe.tolist(),
        }
    raise MonitoringInputError(f"{args.model}: only PCA and MPCA model files can be scored here.")


def main(argv: list[str] | None = None) -> int:
    """Run ``opencdmo monitor fit|score``; return the exit status."""
    args = _parser().parse_args(argv)
    try:
        output = _fit(args) if args.command == "fit" else _score(args)
    except MonitoringInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    json.dump(output, sys.stdout, indent=2, allow_nan=False)
    sys.stdout.write("\n")
    return 0
