"""``opencdmo monitor``: fit and score monitoring models from files, without a database.

``fit`` reads batch data (long or wide CSV/Parquet/Excel), aligns it, fits an MPCA (or a PCA
of a continuous-process table) and writes a model file; ``score`` scores new data against
it. The work is :mod:`.pipeline`'s; this module parses options and prints. JSON (or, with
``--format table``, a table per batch) goes to stdout, messages to stderr; bad input exits
with status 2 and a message naming the file, column, batch or variable.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from opencdmo.engines.progress import Progress

from .errors import MonitoringInputError
from .pipeline import (
    ALIGNMENTS,
    BatchReport,
    FitOptions,
    FitResult,
    ReadOptions,
    ScoreResult,
    TableFit,
    TableScores,
    fit_batch_file,
    fit_table_file,
    score_file,
)

__all__ = ["main"]

EPILOG = """\
options that matter with few training batches:
  --components  principal components (default 2); with cross-validated limits new normal
                batches stay inside whatever the number, more components move a fault
                from SPE to T²
  --limits      cross-validated (default): T², SPE and per-variable limits from each
                training batch scored by a model fitted without it, so a new batch is
                judged like a held-out one; training: the classical limits from the
                fitted batches, too tight for new batches when there are few of them
  --align       linear (default) when batches run the same recipe for similar times;
                phase with a phase column; dtw when events happen at varying times
  --scale-floor 0.1 (default) keeps columns where the training batches happen to agree
                from turning small deviations into huge ones
  alarm rule    a batch is alarmed when its T² or SPE is above its --confidence limit,
                or one variable's SPE contribution is above its limit (family-wise
                --variable-confidence); the first alarm time is where the SPE at one
                sample stays above its time-varying 99.9 % limit for 1 % of the batch
                (at least 3 samples)
"""


class _Messages:
    """Progress on stderr: each new step, then a line per tenth of the run within a step."""

    def __init__(self) -> None:
        self.shown = -1.0
        self.step = ""

    def __call__(self, progress: Progress) -> None:
        fraction = progress.fraction or 0.0
        step = progress.message.split(" ", 1)[0]
        if step != self.step or fraction >= self.shown + 0.1 or fraction == 1.0:
            self.shown, self.step = fraction, step
            print(progress.message, file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="opencdmo monitor",
        description=(
            "Fit and score multivariate monitoring models from CSV, Parquet or Excel files. "
            "JSON (or a table) on stdout, messages on stderr."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    fit = commands.add_parser(
        "fit",
        help="fit a model and write it to a file",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fit.add_argument("data", type=Path, help="training data: CSV, Parquet or .xlsx file")
    fit.add_argument(
        "--out", type=Path, required=True, help="model file to write (.json, arrays in .npz)"
    )
    fit.add_argument(
        "--kind",
        choices=["mpca", "pca"],
        default="mpca",
        help="mpca: batches (default); pca: a continuous process, one row per observation",
    )
    fit.add_argument(
        "--components", type=int, default=2, help="principal components (count; default 2)"
    )
    fit.add_argument(
        "--align", default="linear", help=f"{ALIGNMENTS} (batch data only; default linear)"
    )
    fit.add_argument(
        "--samples",
        type=int,
        help="aligned length in samples per batch (default: median batch length)",
    )
    fit.add_argument(
        "--confidence",
        type=float,
        default=0.99,
        help="confidence of the T² and SPE limits, a fraction (default 0.99)",
    )
    fit.add_argument(
        "--limits",
        choices=["cross-validated", "training"],
        default="cross-validated",
        help="where the MPCA limits come from (default cross-validated; see below)",
    )
    fit.add_argument(
        "--folds",
        type=int,
        help="cross-validation folds, a count (default: one batch per fold, at most 20)",
    )
    fit.add_argument(
        "--variable-confidence",
        default="0.99999",
        help="family-wise confidence of the per-variable SPE contribution limits, a "
        "fraction, or 'off' (default 0.99999)",
    )
    fit.add_argument(
        "--scale-floor",
        default="0.1",
        help="smallest column scale as a fraction of the variable's SD over all samples, or "
        "'off' for plain autoscaling (MPCA; default 0.1)",
    )
    _reading_options(fit)
    score = commands.add_parser("score", help="score new data against a model file")
    score.add_argument("data", type=Path, help="new data: CSV, Parquet or .xlsx file")
    score.add_argument(
        "--model", type=Path, required=True, help="model file written by fit (.json)"
    )
    score.add_argument(
        "--confidence",
        type=float,
        help="confidence of the limits, a fraction (default: the model's)",
    )
    _reading_options(score)
    return parser


def _reading_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--layout",
        choices=["auto", "long", "wide"],
        default="auto",
        help="long: one row per batch, time and variable; wide: one column per variable "
        "(default auto: long when the file has 'variable' and 'value' columns)",
    )
    parser.add_argument(
        "--batch-column", help="batch identifier column (default batch, batch_id or BATCH NUMBER)"
    )
    parser.add_argument(
        "--time-column",
        help="time column, in any one unit such as h (default time; wide: sample number)",
    )
    parser.add_argument("--phase-column", help="column naming each sample's phase")
    parser.add_argument("--variables", help="comma-separated variable columns to use")
    parser.add_argument("--sheet", help="Excel sheet (default: the first)")
    parser.add_argument(
        "--format",
        choices=["json", "table"],
        default="json",
        help="stdout: json (default) or a table for people",
    )


def _reading(args: argparse.Namespace) -> ReadOptions:
    names = tuple(v.strip() for v in (args.variables or "").split(",") if v.strip())
    return ReadOptions(
        layout=args.layout,
        batch_column=args.batch_column,
        time_column=args.time_column,
        phase_column=args.phase_column,
        variables=names or None,
        sheet=args.sheet,
    )


def _fraction_or_off(text: str, option: str) -> float | None:
    if text == "off":
        return None
    try:
        return float(text)
    except ValueError:
        raise MonitoringInputError(
            f"{option} must be a number such as 0.1 or 'off'; got {text!r}."
        ) from None


def _fit(args: argparse.Namespace) -> FitResult | TableFit:
    if args.kind == "pca":
        return fit_table_file(args.data, args.out, _reading(args), args.components, args.confidence)
    options = FitOptions(
        n_components=args.components,
        alignment=args.align,
        n_samples=args.samples,
        confidence=args.confidence,
        limits=args.limits,
        folds=args.folds,
        variable_confidence=_fraction_or_off(args.variable_confidence, "--variable-confidence"),
        scale_floor=_fraction_or_off(args.scale_floor, "--scale-floor"),
    )
    return fit_batch_file(args.data, args.out, _reading(args), options, progress=_Messages())


def _number(value: float) -> str:
    return f"{value:.4g}"


def batch_table(report: BatchReport) -> str:
    """One line per batch: status, T² and SPE against their limits, first alarm, variables.

    The variables are those above their contribution limits, then the largest SPE
    contributors, three in all.
    """
    limits = report.limits
    lines = [
        f"limits: {limits.method}, {limits.confidence:.3g} confidence; "
        f"T² limit {_number(limits.t2)}, SPE limit {_number(limits.spe)}",
        f"{'batch':<12} {'status':<7} {'T²/limit':>9} {'SPE/limit':>10} {'first alarm':>12}  "
        "top SPE variables",
    ]
    for verdict in report.batches:
        first = (
            "-"
            if verdict.first_alarm is None
            else _number(
                verdict.first_alarm
                if verdict.first_alarm_time is None
                else verdict.first_alarm_time
            )
        )
        named = [*verdict.alarmed_variables]
        named += [v for v in verdict.top_spe_variables if v not in named]
        marks = ", ".join(
            f"{name}{' (over limit)' if name in verdict.alarmed_variables else ''}"
            for name in named[:3]
        )
        lines.append(
            f"{verdict.batch:<12} {verdict.status:<7} {verdict.t2 / verdict.t2_limit:>9.2f} "
            f"{verdict.spe / verdict.spe_limit:>10.2f} {first:>12}  {marks}"
        )
    flagged = report.flagged
    lines.append(
        f"{len(flagged)} of {len(report.batches)} batches alarmed"
        + (f": {', '.join(flagged)}" if flagged else "")
    )
    return "\n".join(lines)


def _table(result: FitResult | TableFit | ScoreResult | TableScores) -> str:
    if isinstance(result, FitResult):
        head = (
            f"model {result.model_path}: MPCA, {result.model.n_components_} components, "
            f"{result.n_batches} batches x {result.model.n_samples_} aligned samples x "
            f"{len(result.model.variables_)} variables ({result.alignment['method']} alignment)\n"
            "training batches, each judged by the model fitted without it:\n"
            if result.report.limits.method == "cross-validated"
            else "training batches:\n"
        )
        return head + batch_table(result.report)
    if isinstance(result, ScoreResult):
        return f"scored against {result.model_path}\n" + batch_table(result.report)
    summary = result.to_dict()
    rate = (
        f"training alarm rate {summary['training_alarm_rate']:.1%}"
        if isinstance(result, TableFit)
        else f"T² alarm rate {summary['t2_alarm_rate']:.1%}, "
        f"SPE alarm rate {summary['spe_alarm_rate']:.1%}"
    )
    return (
        f"model {result.model_path}: PCA, {summary['n_observations']} observations; "
        f"{result.confidence:.3g} confidence: T² limit {_number(result.t2_limit)}, "
        f"SPE limit {_number(result.spe_limit)}; {rate}"
    )


def main(argv: list[str] | None = None) -> int:
    """Run ``opencdmo monitor fit|score``; return the exit status."""
    args = _parser().parse_args(argv)
    try:
        result = (
            _fit(args)
            if args.command == "fit"
            else score_file(
                args.data, args.model, _reading(args), args.confidence, progress=_Messages()
            )
        )
    except (MonitoringInputError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.format == "table":
        print(_table(result))
        return 0
    output: dict[str, Any] = result.to_dict()
    json.dump(output, sys.stdout, indent=2, allow_nan=False)
    sys.stdout.write("\n")
    return 0
