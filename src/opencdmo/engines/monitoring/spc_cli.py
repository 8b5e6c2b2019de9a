"""``opencdmo spc``: univariate control charts and capability of one column of a file.

Prints JSON (chart points, limits, rule violations, capability) or, with ``--format table``,
a summary per chart on stdout; bad input exits with status 2 and a message naming the file
and column.
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
    parser.add_argument("--column", required=True, help="column to chart (values in its unit)")
    parser.add_argument(
        "--chart",
        choices=["imr", "xbar-r", "xbar-s", "ewma", "cusum"],
        default="imr",
        help="individuals and moving range (default), subgroup means with ranges or SDs, "
        "EWMA or CUSUM",
    )
    parser.add_argument(
        "--subgroup", type=int, default=5, help="subgroup size, a count (xbar charts; default 5)"
    )
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
    parser.add_argument("--lsl", type=float, help="lower specification limit, in the column's unit")
    parser.add_argument("--usl", type=float, help="upper specification limit, in the column's unit")
    parser.add_argument(
        "--lambda", dest="lam", type=float, default=0.2, help="EWMA weight λ, 0-1 (default 0.2)"
    )
    parser.add_argument(
        "--k", type=float, default=0.5, help="CUSUM reference value, in σ (default 0.5)"
    )
    parser.add_argument(
        "--h", type=float, default=5.0, help="CUSUM decision interval, in σ (default 5)"
    )
    parser.add_argument(
        "--confidence",
        type=float,
        default=0.95,
        help="confidence of the capability intervals, a fraction (default 0.95)",
    )
    parser.add_argument("--sheet", help="Excel sheet (default: the first)")
    parser.add_argument(
        "--format",
        choices=["json", "table"],
        default="json",
        help="stdout: json (default) or a summary table for people",
    )
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


def _limit_text(values: list[float | None]) -> str:
    """A limit that is constant, or its range where it varies (EWMA start, varying subgroups)."""
    finite = [v for v in values if v is not None]
    if not finite:
        return "-"
    low, high = min(finite), max(finite)
    return f"{low:.4g}" if low == high else f"{low:.4g}..{high:.4g}"


def summary_text(output: dict[str, Any]) -> str:
    """One line per chart (limits, points out of control, rules broken), then capability."""
    lines = [
        f"{output['file']}, column {output['column']}: {output['n']} values, limits from the "
        f"first {output['limits_from']}",
        f"{'chart':<16} {'lower':>18} {'center':>18} {'upper':>18} {'out':>5}  rules broken",
    ]
    for chart in output["charts"]:
        broken = ", ".join(
            f"{rule} at {', '.join(str(i + 1) for i in points[:5])}"
            + (" ..." if len(points) > 5 else "")
            for rule, points in chart["violations"].items()
            if points
        )
        lines.append(
            f"{chart['name']:<16} {_limit_text(chart['lower']):>18} "
            f"{_limit_text(chart['center']):>18} {_limit_text(chart['upper']):>18} "
            f"{len(chart['out_of_control']):>5}  {broken or '-'}"
        )
    capability_figures = output.get("capability")
    if capability_figures:
        level = capability_figures["confidence"]
        for name in ("cp", "cpk", "pp", "ppk"):
            figure = capability_figures[name]
            if figure is not None:
                lines.append(
                    f"{name.upper():<4} {figure['value']:.3f} ({level:.0%} interval "
                    f"{figure['low']:.3f} to {figure['high']:.3f})"
                )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run ``opencdmo spc``; return the exit status."""
    args = _parser().parse_args(argv)
    try:
        output = _run(args)
    except (MonitoringInputError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.format == "table":
        print(summary_text(output))
        return 0
    json.dump(output, sys.stdout, indent=2, allow_nan=False)
    sys.stdout.write("\n")
    return 0
