"""``opencdmo spc``: univariate control charts and capability of one column of a file.

Prints JSON (chart points, limits, rule violations, capability) on stdout; bad input exits
with status 2 and a message naming the file and column.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from .errors import MonitoringInputError
from .spc import (
    NELSON_RULES,
    WESTERN_ELECTRIC_RULES,
    ControlChart,
    capability,
    cusum_chart,
    ewma_chart,
    individuals_chart,
    individuals_limits,
    xbar_r_chart,
    xbar_r_limits,
    xbar_s_chart,
    xbar_s_limits,
)
from .tables import column_as_float, read_table

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="opencdmo spc",
        description="Control charts and capability of one column of a CSV, Parquet or Excel file. JSON on stdout.",
    )
    parser.add_argument("data", type=Path, help="CSV, Parquet or .xlsx file")
    parser.add_argument("--column", required=True, help="column to chart")
    parser.add_argument(
        "--chart", choices=["imr", "xbar-r", "xbar-s", "ewma", "cusum"], default="imr"
    )
    parser.add_argument("--subgroup", type=int, default=5, help="subgroup size (xbar charts)")
    parser.add_argument(
        "--rules",
        default="western-electric",
        help="western-electric, nelson, none, or a comma-separated list such as we1,nelson3",
    )
    parser.add_argument(
        "--freeze",
        type=int,
        help="compute the limits from the first N observations (a validated period) only",
    )
    parser.add_argument("--lsl", type=float, help="lower specification limit")
    parser.add_argument("--usl", type=float, help="upper specification limit")
    parser.add_argument("--lambda", dest="lam", type=float, default=0.2, help="EWMA λ")
    parser.add_argument("--k", type=float, default=0.5, help="CUSUM reference value (σ)")
    parser.add_argument("--h", type=float, default=5.0, help="CUSUM decision interval (σ)")
    parser.add_argument("--confidence", type=float, default=0.95)
    parser.add_argument("--sheet")
    return parser


def _rules(text: str) -> tuple[str, ...]:
    if text == "western-electric":
        return WESTERN_ELECTRIC_RULES
    if text == "nelson":
        return NELSON_RULES
    if text == "none":
        return ()
    return tuple(r.strip() for r in text.split(",") if r.strip())


def _finite(values: np.ndarray) -> list[float | None]:
    return [float(v) if np.isfinite(v) else None for v in values]


def _chart_json(chart: ControlChart) -> dict[str, Any]:
    return {
        "name": chart.name,
        "values": _finite(chart.values),
        "center": _finite(chart.center),
        "lower": _finite(chart.lower),
        "upper": _finite(chart.upper),
        "violations": chart.violations,
        "out_of_control": chart.out_of_control,
    }


def _run(args: argparse.Namespace) -> dict[str, Any]:
    table = read_table(args.data, sheet=args.sheet)
    values = column_as_float(table, args.column, str(args.data))
    missing = np.flatnonzero(np.isnan(values))
    if missing.size:
        raise MonitoringInputError(
            f"{args.data}: column {args.column!r} is empty at row {int(missing[0]) + 1}."
        )
    rules = _rules(args.rules)
    frozen = values[: args.freeze] if args.freeze else values
    if args.freeze is not None and not 2 <= args.freeze <= values.size:
        raise MonitoringInputError(f"--freeze must be between 2 and {values.size}.")
    charts: list[ControlChart]
    if args.chart == "imr":
        charts = list(individuals_chart(values, individuals_limits(frozen), rules))
    elif args.chart in ("xbar-r", "xbar-s"):
        n = args.subgroup
        usable = values.size - values.size % n
        groups = values[:usable].reshape(-1, n)
        base = frozen[: frozen.size - frozen.size % n].reshape(-1, n)
        if args.chart == "xbar-r":
            charts = list(xbar_r_chart(groups, xbar_r_limits(base), rules))
        else:
            charts = list(xbar_s_chart(groups, xbar_s_limits(base), rules))
    elif args.chart == "ewma":
        limits = individuals_limits(frozen)
        charts = [ewma_chart(values, args.lam, target=limits.center, sigma=limits.sigma)]
    else:
        limits = individuals_limits(frozen)
        charts = list(cusum_chart(values, args.k, args.h, target=limits.center, sigma=limits.sigma))
    output: dict[str, Any] = {
        "file": str(args.data),
        "column": args.column,
        "n": int(values.size),
        "limits_from": int(frozen.size),
        "charts": [_chart_json(c) for c in charts],
    }
    if args.lsl is not None or args.usl is not None:
        result = capability(frozen, args.lsl, args.usl, args.confidence)
        output["capability"] = {
            name: None
            if getattr(result, name) is None
            else {
                "value": getattr(result, name).value,
                "low": getattr(result, name).low,
                "high": getattr(result, name).high,
            }
            for name in ("cp", "cpk", "pp", "ppk")
        }
        output["capability"]["confidence"] = args.confidence
    return output


def main(argv: list[str] | None = None) -> int:
    """Run ``opencdmo spc``; return the exit status."""
    args = _parser().parse_args(argv)
    try:
        output = _run(args)
    except (MonitoringInputError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    json.dump(output, sys.stdout, indent=2, allow_nan=False)
    sys.stdout.write("\n")
    return 0
