"""``opencdmo simulate``: generate labelled fed-batch data sets without a database."""

from __future__ import annotations

import argparse
import os
import sys
import time

from opencdmo.engines.bioprocess.errors import IntegrationError, InvalidInputError
from opencdmo.engines.bioprocess.faults import FAULT_KINDS
from opencdmo.engines.bioprocess.generator import REGIMES, GeneratorConfig, generate
from opencdmo.engines.bioprocess.output import write_dataset
from opencdmo.engines.bioprocess.simulator import SimulationSettings

__all__ = ["main"]

PROG = "opencdmo simulate"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Simulate fed-batch CHO mAb bioreactor runs (normal batches in several operating "
            "regimes plus labelled faulty ones) and write long-format time series, a batch "
            "summary and fault labels as Parquet and/or CSV."
        ),
    )
    parser.add_argument("--batches", type=int, default=10, help="number of batches (default 10)")
    parser.add_argument(
        "--faulty", type=int, default=0, help="how many batches carry a fault (default 0)"
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
    parser.add_argument("--seed", type=int, default=0, help="master seed (default 0)")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--days", type=float, default=14.0, help="run length in days (default 14)")
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
        help="worker processes (default: CPU count, at most 4)",
    )
    parser.add_argument(
        "--format",
        choices=("parquet", "csv", "both"),
        default="both",
        help="file format (default both)",
    )
    parser.add_argument(
        "--regimes",
        default=",".join(REGIMES),
        help="comma-separated operating regimes: " + ", ".join(REGIMES),
    )
    parser.add_argument(
        "--faults",
        default=",".join(FAULT_KINDS),
        help="comma-separated fault kinds to draw from: " + ", ".join(FAULT_KINDS),
    )
    return parser


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
        written = write_dataset(args.out, results, args.format)
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
