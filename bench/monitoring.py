"""Monitoring engine benchmark: ours beside process-improve 2.2.0, same run, same data.

Run ``.venv/bin/python bench/monitoring.py`` (``--quick`` for a smaller, faster run). Each
row times one piece of work for both implementations (best and median of several runs, wall
clock) and reports the peak of memory allocated during one run (tracemalloc, MB above the
start), the largest difference between the two results where both compute the same number,
and the goal from issue 4. Data: synthetic batches (seeded) for the large MPCA, the nylon
batches and the Tennessee Eastman training set from ``tests/data/monitoring``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "monitoring"
PYTHON = sys.executable


def timed(work: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Best and median wall-clock seconds of ``repeat`` runs, and the last result."""
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), result


def peak_mb(work: Callable[[], Any]) -> float:
    """Peak memory allocated while ``work`` runs, in MB (tracemalloc)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    work()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return (peak - base) / 1e6


def synthetic_batches(
    n_batches: int, n_samples: int, n_variables: int, seed: int = 0
) -> np.ndarray:
    """Smooth batch trajectories with three batch-to-batch factors and noise, (I, N, J)."""
    rng = np.random.default_rng(seed)
    time_axis = np.linspace(0.0, 1.0, n_samples)
    base = np.stack(
        [np.sin((j + 1) * np.pi * time_axis) + j * time_axis for j in range(n_variables)], axis=1
    )
    shapes = np.stack(
        [
            np.outer(np.sin((f + 1) * np.pi * time_axis / 2), rng.normal(size=n_variables))
            for f in range(3)
        ]
    )
    factors = rng.normal(size=(n_batches, 3)) * np.array([1.0, 0.5, 0.25])
    values = base + np.einsum("if,fnj->inj", factors, shapes)
    values += 0.05 * rng.normal(size=values.shape)
    return values


def import_seconds(statement: str, repeat: int = 3) -> float:
    """Best wall-clock time of ``statement`` in a fresh interpreter."""
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    runs = []
    for _ in range(repeat):
        out = subprocess.run(
            [PYTHON, "-W", "ignore", "-c", code],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        runs.append(float(out.stdout.strip().splitlines()[-1]))
    return min(runs)


def fmt_time(seconds: float) -> str:
    """Seconds as a short human string."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def main(argv: list[str] | None = None) -> int:
    """Run every benchmark row and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller data, fewer repeats")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    import pandas as pd
    from process_improve.batch import BatchPCA, batch_dtw
    from process_improve.multivariate import methods as pi

    from opencdmo.engines.monitoring import MPCA, PCA, PLS, align_dtw, align_linear, read_batch_file
    from opencdmo.engines.monitoring.online import OnlineMonitor

    quick = args.quick
    repeat = 2 if quick else 3
    rows: list[tuple[str, str, str, str, str, str, str]] = []

    def add(work: str, ours: tuple[float, float], theirs: tuple[float, float] | None,
            ours_mb: float | None, theirs_mb: float | None, diff: str, goal: str) -> None:  # fmt: skip
        ours_text = f"{fmt_time(ours[0])} (median {fmt_time(ours[1])})"
        theirs_text = (
            "-" if theirs is None else f"{fmt_time(theirs[0])} (median {fmt_time(theirs[1])})"
        )
        mem = "-" if ours_mb is None else f"+{ours_mb:.0f} MB"
        mem_pi = "-" if theirs_mb is None else f"+{theirs_mb:.0f} MB"
        rows.append((work, ours_text, mem, theirs_text, mem_pi, diff, goal))
        print(
            f"{work}: ours {ours_text} {mem}; process-improve {theirs_text} {mem_pi}; {diff}",
            file=sys.stderr,
        )

    # 1. Large MPCA fit.
    n_batches, N, J = (200, 500, 20) if quick else (1000, 500, 20)
    values = synthetic_batches(n_batches, N, J)
    frames: dict[Hashable, pd.DataFrame] = {
        f"b{i:04d}": pd.DataFrame(values[i], columns=[f"v{j:02d}" for j in range(J)])
        for i in range(n_batches)
    }
    ours_best, ours_med, model = timed(lambda: MPCA(5).fit(values), repeat)
    ours_mb = peak_mb(lambda: MPCA(5).fit(values))
    pi_best, pi_med, reference = timed(lambda: BatchPCA(5).fit(frames), 1 if not quick else repeat)
    pi_mb = peak_mb(lambda: BatchPCA(5).fit(frames))
    diff = np.max(
        np.abs(model.t2_ - reference.hotellings_t2_.to_numpy()[:, -1])
        / reference.hotellings_t2_.to_numpy()[:, -1]
    )
    add(f"MPCA fit, {n_batches} batches x {J} variables x {N} samples, 5 components", (ours_best, ours_med),
        (pi_best, pi_med), ours_mb, pi_mb, f"T² rel. diff {diff:.1e}", "under 1 s, peak under +300 MB")  # fmt: skip

    # 2. Score one new completed batch.
    new = synthetic_batches(1, N, J, seed=99)
    new_frame = {"new": pd.DataFrame(new[0], columns=[f"v{j:02d}" for j in range(J)])}
    ours_best, ours_med, ours_stats = timed(lambda: (model.t2(new), model.spe(new)), 200)
    pi_best, pi_med, pi_stats = timed(lambda: reference.diagnose(new_frame), 10)
    diff = (
        abs(ours_stats[1][0] - float(pi_stats.spe.to_numpy().ravel()[-1]) ** 2) / ours_stats[1][0]
    )
    add("score one new completed batch (T², SPE)", (ours_best, ours_med), (pi_best, pi_med), None, None,
        f"SPE rel. diff {diff:.1e}", "under 0.5 ms")  # fmt: skip

    # 3. Online monitoring of one running nylon batch.
    nylon = read_batch_file(DATA / "batch" / "nylon.csv")
    aligned = align_linear(nylon, 116)
    nylon_model = MPCA(3).fit(aligned)
    build_best, _, monitor = timed(
        lambda: OnlineMonitor(nylon_model, aligned.values, "tsr"), repeat
    )
    batch = aligned.values[4]
    ours_best, ours_med, _ = timed(lambda: monitor.trace(batch), 20)
    nylon_pi = BatchPCA(3).fit(
        {
            b: pd.DataFrame(aligned.values[i], columns=list(aligned.variables))
            for i, b in enumerate(aligned.batch_ids)
        }
    )
    batch_frame = pd.DataFrame(batch, columns=list(aligned.variables))
    pi_best, pi_med, _ = timed(lambda: nylon_pi.predict_online_trace(batch_frame, method="tsr"), 5)
    add(f"online: T²/SPE at each of 116 samples (nylon); ours {fmt_time(ours_best / 116)} per sample, "
        f"monitor built once in {fmt_time(build_best)}", (ours_best, ours_med), (pi_best, pi_med), None, None,
        "-", "under 1 ms per sample")  # fmt: skip

    # 4. DTW of the nylon batches.
    subset = nylon.select(nylon.batch_ids[:15]) if quick else nylon
    ours_best, ours_med, _ = timed(lambda: align_dtw(subset), repeat)
    ours_mb = peak_mb(lambda: align_dtw(subset))
    dtw_frames = {
        b.batch_id: pd.DataFrame(b.values, columns=list(nylon.variables)) for b in subset.batches
    }
    reference_batch = align_dtw(subset).reference_batch
    pi_best, pi_med, _ = timed(
        lambda: batch_dtw(
            dtw_frames, list(nylon.variables), reference_batch, {"show_progress": False}
        ),
        1,
    )
    add(f"DTW alignment of {len(subset)} nylon batches", (ours_best, ours_med), (pi_best, pi_med), ours_mb, None,
        "different iteration schedules", "under 2 s")  # fmt: skip

    # 5. PCA fit on Tennessee Eastman with limits.
    te = np.loadtxt(DATA / "tennessee_eastman" / "d00.dat").T

    def ours_pca() -> tuple[float, float, float]:
        m = PCA(11).fit(te)
        return m.t2_limit(0.99), m.spe_limit(0.99), m.spe_limit(0.99, "jackson-mudholkar")

    te_frame = pd.DataFrame(te)

    def pi_pca() -> tuple[float, float]:
        m = pi.PCA(11).fit(pi.MCUVScaler().fit_transform(te_frame))
        return m.hotellings_t2_limit(0.99), m.spe_limit(0.99)

    ours_best, ours_med, ours_lim = timed(ours_pca, 50)
    pi_best, pi_med, pi_lim = timed(pi_pca, 10)
    diff = abs(ours_lim[1] - pi_lim[1] ** 2) / ours_lim[1]
    add("PCA fit on Tennessee Eastman (500 x 52, 11 components, limits)", (ours_best, ours_med), (pi_best, pi_med),
        peak_mb(ours_pca), peak_mb(pi_pca), f"SPE limit rel. diff {diff:.1e}", "under 4 ms")  # fmt: skip

    # 6. PLS fit on Tennessee Eastman.
    X, Y = te[:, np.r_[0:22, 41:52]], te[:, 22:41]
    Xf, Yf = pd.DataFrame(X), pd.DataFrame(Y)
    ours_best, ours_med, ours_pls = timed(lambda: PLS(11).fit(X, Y), 10)
    pi_best, pi_med, pi_pls = timed(lambda: pi.PLS(11).fit(Xf, Yf), 3)
    diff = float(np.max(np.abs(ours_pls.predict(X) - pi_pls.predictions_.to_numpy())))
    add("PLS fit on Tennessee Eastman (33 X -> 19 Y, 11 components)", (ours_best, ours_med), (pi_best, pi_med),
        None, None, f"prediction abs. diff {diff:.1e}", "under 20 ms")  # fmt: skip

    # 7. Import time.
    ours_import = import_seconds("import opencdmo.engines.monitoring")
    pi_import = import_seconds(
        "import process_improve.batch, process_improve.multivariate.methods, process_improve.monitoring"
    )
    add("import of the monitoring package (fresh interpreter)", (ours_import, ours_import),
        (pi_import, pi_import), None, None, "-", "under 0.3 s")  # fmt: skip

    header = ("work", "ours", "ours peak", "process-improve", "p-i peak", "agreement", "goal")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
