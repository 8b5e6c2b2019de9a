"""``opencdmo monitor`` and ``opencdmo spc`` from files, JSON on stdout, errors on stderr."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from opencdmo.engines.monitoring import cli, spc_cli

from .conftest import BATCH


def _run(main: object, argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)  # type: ignore[operator]
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_monitor_fit_and_score_nylon(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Classical limits and autoscaling flag nylon batches 53 and 54; scoring agrees."""
    model = tmp_path / "nylon.json"
    status, out, err = _run(
        cli.main,
        [
            "fit",
            str(BATCH / "nylon.csv"),
            "--out",
            str(model),
            "--components",
            "3",
            "--samples",
            "100",
            "--limits",
            "training",
            "--scale-floor",
            "off",
        ],
        capsys,
    )
    assert status == 0, err
    report = json.loads(out)
    assert report["n_batches"] == 57
    assert set(report["flagged"]) == {"53", "54"}
    assert "read 57 batches" in err
    status, out, _ = _run(
        cli.main, ["score", str(BATCH / "nylon.csv"), "--model", str(model)], capsys
    )
    assert status == 0
    scored = json.loads(out)
    assert set(scored["flagged"]) == {"53", "54"}
    assert scored["batches"][0]["top_spe_variables"][0].startswith("Tag")


def test_monitor_fit_long_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A long CSV (batch, time, variable, value, unit) fits with its units reported."""
    rng = np.random.default_rng(1)
    lines = ["batch,time,variable,value,unit"]
    for b in range(10):
        for t in range(20):
            lines.append(f"B{b},{t},temperature,{37 + rng.normal(0, 0.2):.4f},degC")
            lines.append(f"B{b},{t},ph,{7 + 0.01 * t + rng.normal(0, 0.02):.4f},pH")
    data = tmp_path / "long.csv"
    data.write_text("\n".join(lines) + "\n")
    status, out, err = _run(
        cli.main, ["fit", str(data), "--out", str(tmp_path / "m.json"), "--components", "2"], capsys
    )
    assert status == 0, err
    report = json.loads(out)
    assert report["units"] == {"temperature": "degC", "ph": "pH"}
    assert report["aligned_samples"] == 20


def test_monitor_pca_of_a_continuous_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], te_train: np.ndarray
) -> None:
    """A PCA of a continuous-process table is fitted and scored from CSV files."""
    header = ",".join(f"x{k + 1}" for k in range(52))
    train = tmp_path / "train.csv"
    np.savetxt(train, te_train, delimiter=",", header=header, comments="")
    status, out, err = _run(
        cli.main,
        ["fit", str(train), "--kind", "pca", "--components", "9", "--out", str(tmp_path / "te")],
        capsys,
    )
    assert status == 0, err
    assert json.loads(out)["n_observations"] == 500
    status, out, _ = _run(
        cli.main, ["score", str(train), "--model", str(tmp_path / "te.json")], capsys
    )
    assert status == 0
    assert json.loads(out)["t2_alarm_rate"] < 0.02


def test_monitor_bad_input_names_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Unknown columns, alignments and files exit with status 2 and a clear message."""
    status, out, err = _run(
        cli.main,
        [
            "fit",
            str(BATCH / "nylon.csv"),
            "--out",
            str(tmp_path / "m"),
            "--variables",
            "Tag01,Tag99",
        ],
        capsys,
    )
    assert status == 2
    assert out == ""
    assert "Tag99" in err
    status, _, err = _run(
        cli.main,
        ["fit", str(BATCH / "nylon.csv"), "--out", str(tmp_path / "m"), "--align", "warp"],
        capsys,
    )
    assert status == 2
    assert "unknown alignment 'warp'" in err
    status, _, err = _run(
        cli.main, ["score", str(tmp_path / "none.csv"), "--model", "x.json"], capsys
    )
    assert status == 2
    assert "no such file" in err


def test_spc_individuals_with_frozen_limits_and_capability(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The I-MR chart of batch yields uses limits from the first 100 batches."""
    status, out, err = _run(
        spc_cli.main,
        [
            str(BATCH / "batch-yield-and-purity.csv"),
            "--column",
            "yield",
            "--freeze",
            "100",
            "--lsl",
            "70",
            "--usl",
            "95",
            "--rules",
            "nelson",
        ],
        capsys,
    )
    assert status == 0, err
    report = json.loads(out)
    assert report["limits_from"] == 100
    individuals = report["charts"][0]
    assert individuals["name"] == "individuals"
    assert set(individuals["violations"]) == {f"nelson{k}" for k in range(1, 9)}
    assert report["capability"]["cp"]["low"] < report["capability"]["cp"]["value"]
    assert report["charts"][1]["values"][0] is None


def test_spc_unknown_column_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    """A missing column exits with status 2 naming it and the columns present."""
    status, _, err = _run(
        spc_cli.main, [str(BATCH / "batch-yield-and-purity.csv"), "--column", "yeld"], capsys
    )
    assert status == 2
    assert "no column 'yeld'; the columns are yield, purity" in err


def test_spc_ewma_and_subgroup_charts(capsys: pytest.CaptureFixture[str]) -> None:
    """EWMA and X̄-S charts run from the command line."""
    path = str(BATCH / "batch-yield-and-purity.csv")
    status, out, _ = _run(spc_cli.main, [path, "--column", "purity", "--chart", "ewma"], capsys)
    assert status == 0
    assert json.loads(out)["charts"][0]["name"] == "ewma"
    status, out, _ = _run(
        spc_cli.main, [path, "--column", "purity", "--chart", "xbar-s", "--subgroup", "4"], capsys
    )
    assert status == 0
    assert len(json.loads(out)["charts"][0]["values"]) == 60


def test_spc_table_shows_limits_out_of_control_points_and_capability(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--format table prints one line per chart with its limits and broken rules, then Cp/Cpk."""
    path = str(BATCH / "batch-yield-and-purity.csv")
    argv = [path, "--column", "yield", "--freeze", "100", "--lsl", "80", "--usl", "100"]
    status, out, _ = _run(spc_cli.main, [*argv, "--rules", "nelson", "--format", "table"], capsys)
    assert status == 0
    lines = out.splitlines()
    assert lines[0].endswith("column yield: 241 values, limits from the first 100")
    individuals = next(line for line in lines if line.startswith("individuals"))
    assert "nelson1 at " in individuals
    assert int(individuals.split()[4]) > 0
    assert any(line.startswith("CPK ") and "95% interval" in line for line in lines)


def test_monitor_dtw_model_scores_new_batches_on_its_reference(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A DTW model stores its reference; scoring warps new batches onto it."""
    model = tmp_path / "dtw.json"
    argv = ["fit", str(BATCH / "nylon.csv"), "--out", str(model), "--align", "dtw"]
    status, out, err = _run(cli.main, [*argv, "--components", "3"], capsys)
    assert status == 0, err
    fitted = json.loads(out)
    assert fitted["alignment"] == "dtw"
    assert fitted["aligned_samples"] == 116
    status, out, err = _run(
        cli.main, ["score", str(BATCH / "nylon.csv"), "--model", str(model)], capsys
    )
    assert status == 0, err
    scored = json.loads(out)
    assert len(scored["batches"]) == 57
    assert scored["t2_limit"] == fitted["t2_limit"]


def test_monitor_phase_model_of_film_coating(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Phase-wise alignment from the workbook flags B1905 at 95 % with training limits."""
    argv = [
        "fit",
        str(BATCH / "Batch_Film_Coating.xlsx"),
        "--out",
        str(tmp_path / "coating"),
        "--time-column",
        "Time (min)",
        "--phase-column",
        "PHASE",
        "--align",
        "phase",
        "--confidence",
        "0.95",
        "--limits",
        "training",
    ]
    status, out, err = _run(cli.main, argv, capsys)
    assert status == 0, err
    report = json.loads(out)
    assert report["flagged"] == ["B1905"]
    assert report["aligned_samples"] == 357


def test_monitor_default_limits_are_cross_validated_and_survive_the_model_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """By default held-out batches set the limits; score reuses them or refits them at a level."""
    model = tmp_path / "cv.json"
    argv = ["fit", str(BATCH / "nylon.csv"), "--out", str(model), "--samples", "100"]
    status, out, err = _run(cli.main, [*argv, "--components", "3"], capsys)
    assert status == 0, err
    fitted = json.loads(out)
    assert fitted["limits"] == "cross-validated"
    assert {"53", "54"} <= set(fitted["flagged"])
    assert len(fitted["flagged"]) <= 4
    status, out, _ = _run(
        cli.main, ["score", str(BATCH / "nylon.csv"), "--model", str(model)], capsys
    )
    scored = json.loads(out)
    assert scored["spe_limit"] == pytest.approx(fitted["spe_limit"])
    assert scored["t2_limit"] == pytest.approx(fitted["t2_limit"])
    assert scored["limits"] == "cross-validated"
    status, out, _ = _run(
        cli.main,
        ["score", str(BATCH / "nylon.csv"), "--model", str(model), "--confidence", "0.95"],
        capsys,
    )
    assert json.loads(out)["spe_limit"] < fitted["spe_limit"]


def test_monitor_table_format_lists_each_batch_with_status_and_limits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--format table prints one line per batch with status, ratios to the limits and variables."""
    model = tmp_path / "nylon.json"
    argv = ["fit", str(BATCH / "nylon.csv"), "--out", str(model), "--samples", "100"]
    status, out, err = _run(cli.main, [*argv, "--components", "3", "--format", "table"], capsys)
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(f"model {model}: MPCA, 3 components, 57 batches")
    assert "limits: cross-validated, 0.99 confidence" in out
    row = next(line for line in lines if line.startswith("54 "))
    assert row.split()[1] == "alarm"
    assert "Tag01" in row
    assert re.fullmatch(r"\d+ of 57 batches alarmed: .*54.*", lines[-1])
