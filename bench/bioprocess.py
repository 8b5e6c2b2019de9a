"""Bioprocess simulator benchmark: 100 batches x 14 days at 5 min resolution vs the 30 s goal.

Run ``python bench/bioprocess.py`` (the goal case, parallel over two worker processes) or
``python bench/bioprocess.py --quick`` (20 batches). Beside the goal it times the naive
alternative, one batch at a time in one process, so the gain of simulating batches
vectorised in chunks and in parallel is visible in the same run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from opencdmo.engines.bioprocess.generator import (
    CHUNK_SIZE,
    GeneratorConfig,
    generate,
    plan_batches,
)
from opencdmo.engines.bioprocess.output import write_dataset
from opencdmo.engines.bioprocess.simulator import SimulationSettings, simulate

GOAL_S = 30.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 batches instead of 100")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--scale", type=float, default=2000.0, help="working volume, L")
    args = parser.parse_args(argv)
    batches = 20 if args.quick else 100
    config = GeneratorConfig(
        batches=batches,
        faulty=batches // 10,
        scale_l=args.scale,
        seed=2024,
        days=14.0,
        settings=SimulationSettings(control_step_min=5.0, sensor_interval_min=5.0),
    )
    print(
        f"bioprocess: {batches} batches x 14 d at 5 min ({config.faulty} faulty), "
        f"{args.scale:g} L, chunks of {CHUNK_SIZE}, {args.workers} workers"
    )
    started = time.perf_counter()
    results = generate(config, workers=args.workers)
    simulated = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as directory:
        write_started = time.perf_counter()
        written = write_dataset(Path(directory), results, "parquet")
        written_s = time.perf_counter() - write_started
        rows = sum(
            len(r.time_h) * len(r.online) + len(r.sample_time_h) * len(r.offline) for r in results
        )
        size_mb = sum(p.stat().st_size for p in written) / 1e6
    total = simulated + written_s
    verdict = "n/a (quick)" if args.quick else ("meets" if total < GOAL_S else "MISSES")
    print(f"  {'simulate':<40} {simulated:7.2f} s")
    print(
        f"  {f'write Parquet ({rows / 1e6:.2f} M rows, {size_mb:.0f} MB)':<40} {written_s:7.2f} s"
    )
    print(f"  {'total':<40} {total:7.2f} s   goal < {GOAL_S:g} s: {verdict}")
    single = plan_batches(config)[:2]
    one_started = time.perf_counter()
    for spec in single:
        simulate([spec], config.settings)
    per_batch = (time.perf_counter() - one_started) / len(single)
    print(
        f"  naive, one batch at a time in one process: {per_batch:.2f} s/batch "
        f"-> {per_batch * batches:.0f} s for {batches} (extrapolated)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
