"""``opencdmo simulate``: generate labelled fed-batch data sets without a database.

Files go to ``--out``; a summary of every batch (regime, fault, harvest figures) goes to
stdout as JSON or, with ``--format table``, as a table; progress and errors go to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

from opencdmo.engines.bioprocess.errors import IntegrationError, InvalidInputError
from opencdmo.engines.bioprocess.faults import FAULT_KINDS
from opencdmo.engines.bioprocess.generator import REGIMES, GeneratorConfig, generate
from opencdmo.engines.bioprocess.output import summary_table, write_dataset
from opencdmo.engines.bioprocess.simulator import BatchResult, SimulationSettings

__all__ = ["main"]

PROG = "opencdmo simulate"
FILE_FORMATS = ("parquet", "csv", "both")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Simulate fed-batch CHO mAb bioreactor runs (normal batches in several operating "
            "regimes plus labelled faulty ones) and write long-format time series, a batch "
            "summary and fault labels as Parquet and/or CSV."
        ),
    )
    parser.add_argument(
        "--batches", type=int, default=10, help="number of batches, a count (default 10)"
    )
    parser.add_argument(
        "--faulty",
        type=int,
        default=0,
        help="how many of the batches carry one labelled fault, a count (default 0)",
    )
    parser.add_argument(
        "--scale", type=float, default=2000.0, help="working volume in L, 2-20000 (default 2000)"
    )
    parser.add_argument(
        "--reactor",
        choices=("single_use", "stainless"),
        default="single_use",
        help="bioreactor construction (default single_use)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="master seed, a whole number >= 0 (default 0)"
    )
    parser.add_argument("--out", required=True, help="output directory (created if missing)")
    parser.add_argument(
        "--days", type=float, default=14.0, help="run length in days, 2-30 (default 14)"
    )
    parser.add_argument(
        "--interval-min",
        type=float,
        default=5.0,
        help="online reading interval in minutes, a multiple of the control step (default 5)",
    )
    parser.add_argument(
        "--control-step-min",
        type=float,
        default=5.0,
        help="control and integration step in minutes (default 5)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=min(os.cpu_count() or 1, 4),
        help="worker processes, a count (default: CPU count, at most 4)",
    )
    parser.add_argument(
        "--files",
        choices=FILE_FORMATS,
        default="both",
        help="file formats written to --out (default both)",
    )
    parser.add_argument(
        "--format",
        choices=("json", "table", *FILE_FORMATS),
        default="json",
        help="summary on stdout: json (default) or table; parquet, csv and both are the "
        "older spelling of --files",
    )
    parser.add_argument(
        "--regimes",
        default=",".join(REGIMES),
        help="comma-separated operating regimes the batches cycle through: " + ", ".join(REGIMES),
    )
    parser.add_argument(
        "--faults",
        default=",".join(FAULT_KINDS),
        help="comma-separated fault kinds the faulty batches cycle through: "
        + ", ".join(FAULT_KINDS),
    )
    return parser


def batch_summaries(results: Sequence[BatchResult]) -> list[dict[str, Any]]:
    """Per batch: regime, fault (kind, start and end in h, magnitude) and harvest figures."""
    summaries = summary_table(results).to_pylist()
    for summary, result in zip(summaries, results, strict=True):
        summary["faults"] = [
            {
                "kind": f.kind,
                "start_h": f.start_h,
                "end_h": f.end_h,
                "magnitude": f.magnitude,
                "magnitude_unit": f.unit,
            }
            for f in result.spec.faults
        ]
    return summaries


def summary_text(summaries: Sequence[dict[str, Any]]) -> str:
    """The batch summaries as a table for people (fault magnitudes in each kind's unit)."""
    lines = [
        f"{'batch':<7} {'regime':<17} {'titer g/L':>9} {'product kg':>10} "
        f"{'viability %':>11} {'peak VCD 1e6/mL':>15}  fault (start-end h, magnitude)"
    ]
    for s in summaries:
        faults = "; ".join(
            f"{f['kind']} ({f['start_h']:g}-{f['end_h']:g} h, {f['magnitude']:g})"
            for f in s["faults"]
        )
        lines.append(
            f"{s['batch']:<7} {s['regime']:<17} {s['final_titer_g_l']:>9.2f} "
            f"{s['product_g'] / 1000.0:>10.2f} {s['harvest_viability_pct']:>11.1f} "
            f"{s['peak_vcd_e6_per_ml']:>15.1f}  {faults or '-'}"
        )
    faulty = sum(1 for s in summaries if s["faults"])
    lines.append(f"{len(summaries)} batches, {faulty} faulty")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the generator.

    Parameters
    ----------
    argv : list of str, optional
        Arguments after ``simulate``; defaults to ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success, 2 for bad input, 1 when the integration fails.
    """
    args = _parser().parse_args(argv)
    if args.format in FILE_FORMATS:
        args.files, args.format = args.format, "json"
    started = time.perf_counter()

    def report(done: int, total: int) -> None:
        elapsed = time.perf_counter() - started
        print(f"{PROG}: simulated {done}/{total} batches ({elapsed:.1f} s)", file=sys.stderr)

    try:
        if not args.scale > 0.0:
            raise InvalidInputError(
                "--scale", f"must be a positive volume in L, got {args.scale:g}"
            )
        config = GeneratorConfig(
            batches=args.batches,
            faulty=args.faulty,
            scale_l=args.scale,
            reactor_kind=args.reactor,
            seed=args.seed,
            days=args.days,
            settings=SimulationSettings(
                control_step_min=args.control_step_min, sensor_interval_min=args.interval_min
            ),
            regimes=tuple(r.strip() for r in args.regimes.split(",") if r.strip()),
            fault_kinds=tuple(f.strip() for f in args.faults.split(",") if f.strip()),
        )
        results = generate(config, workers=args.workers, progress=report)
        written = write_dataset(args.out, results, args.files)
    except InvalidInputError as error:
        print(f"{PROG}: error: {error.parameter}: {error.reason}", file=sys.stderr)
        return 2
    except IntegrationError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - started
    faulty = sum(1 for r in results if r.spec.faults)
    print(
        f"{PROG}: {len(results)} batches ({faulty} faulty) in {elapsed:.1f} s; wrote "
        + ", ".join(str(p) for p in written),
        file=sys.stderr,
    )
    summaries = batch_summaries(results)
    if args.format == "table":
        print(summary_text(summaries))
    else:
        json.dump({"out": str(args.out), "batches": summaries}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
