"""Monitoring engine results on the real data sets: what the tests pin, printed as tables.

Run ``.venv/bin/python bench/monitoring_quality.py``. Prints the Tennessee Eastman
detection and false-alarm rates (PCA with 9 components, 99 % limits, analytic and empirical),
the film-coating batch statistics, the tablet data's Table 7 and grouped cross-validated
prediction against the mean baseline.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "monitoring"


def te(name: str) -> np.ndarray:
    """A Tennessee Eastman file as samples × 52 (``d00.dat`` is stored transposed)."""
    values = np.loadtxt(DATA / "tennessee_eastman" / name)
    return values.T if name == "d00.dat" else values


def main() -> int:
    """Print every table."""
    from opencdmo.engines.monitoring import (
        MPCA,
        PCA,
        align_phases,
        detection_report,
        read_batch_file,
        select_n_components,
    )
    from opencdmo.engines.monitoring.prediction import cross_validate_prediction
    from opencdmo.engines.monitoring.tablet import load_tablet_data, table7

    train = te("d00.dat")
    chosen = select_n_components(train, max_components=15).n_components
    model = PCA(9).fit(train)
    print(
        f"Tennessee Eastman: PCA on d00.dat, 9 components (cross-validation picks {chosen}), 99 %"
    )
    print(
        "| run | T² analytic | SPE analytic (JM) | T² empirical | SPE empirical | delay (3 in a row) |"
    )
    print("|---|---|---|---|---|---|")
    for fault in ("00", "01", "02", "04", "05", "06", "07"):
        run = te(f"d{fault}_te.dat")
        start = run.shape[0] if fault == "00" else 160
        analytic = detection_report(model, run, start, run_length=3)
        empirical = detection_report(model, run, start, limits="empirical")
        if fault == "00":
            print(
                f"| d00_te (false alarms) | {analytic.t2_false_alarm_rate:.1%} | "
                f"{analytic.spe_false_alarm_rate:.1%} | {empirical.t2_false_alarm_rate:.1%} | "
                f"{empirical.spe_false_alarm_rate:.1%} | - |"
            )
            continue
        print(
            f"| fault {int(fault)} | {analytic.t2_detection_rate:.1%} | "
            f"{analytic.spe_detection_rate:.1%} | {empirical.t2_detection_rate:.1%} | "
            f"{empirical.spe_detection_rate:.1%} | {analytic.detection_delay} samples |"
        )

    coating = align_phases(
        read_batch_file(
            DATA / "batch" / "Batch_Film_Coating.xlsx",
            time_column="Time (min)",
            phase_column="PHASE",
        )
    )
    result = MPCA(2).fit(coating).score_batches(coating, confidence=0.95)
    order = np.argsort(result.t2)[::-1][:4]
    print("\nFilm coating, phase-wise aligned, MPCA 2 components: largest T² (limit "
          f"{result.t2_limit:.2f} at 95 %)")  # fmt: skip
    for i in order:
        print(f"  {result.batch_ids[i]}: T² {result.t2[i]:.1f}, SPE {result.spe[i]:.0f}")

    tablets = load_tablet_data(DATA / "tablet")
    print("\nTablet data, Table 7 (paper: 90.6/3.4/82.5/102.7 and 85.6/4.2/74.0/100.0)")
    for label, stats in table7(tablets).items():
        print(f"  {label}: mean {stats.mean:.1f}, SD {stats.sd:.1f}, "
              f"min {stats.minimum:.1f}, max {stats.maximum:.1f} (n={stats.n})")  # fmt: skip
    print("\nGrouped (product code, 5 folds) cross-validated prediction")
    print("| response | model | RMSE | R² | mean-baseline RMSE | baseline R² |")
    print("|---|---|---|---|---|---|")
    for response in ("dissolution_av", "dissolution_min", "impurities_total"):
        for kind in ("pls", "gradient-boosting"):
            report = cross_validate_prediction(
                tablets.features, tablets.quality[response], list(tablets.product_code), kind,
                n_components=4, n_folds=5,
            )  # fmt: skip
            print(f"| {response} | {kind} | {report.rmse:.3f} | {report.r2:.3f} | "
                  f"{report.baseline_rmse:.3f} | {report.baseline_r2:.3f} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
