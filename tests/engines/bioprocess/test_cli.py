"""The ``opencdmo simulate`` command."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from opencdmo.cli import main as opencdmo_main
from opencdmo.engines.bioprocess.cli import main


def test_simulate_writes_labelled_data_and_reports_progress(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through the opencdmo dispatcher: files written, progress and totals on stderr."""
    out = tmp_path / "data"
    code = opencdmo_main(
        [
            "simulate",
            "--batches", "3",
            "--faulty", "1",
            "--scale", "200",
            "--seed", "4",
            "--days", "3",
            "--interval-min", "60",
            "--workers", "1",
            "--files", "parquet",
            "--out", str(out),
        ]
    )  # fmt: skip
    assert code == 0
    captured = capsys.readouterr()
    err = captured.err
    printed = json.loads(captured.out)
    assert printed["out"] == str(out)
    assert [b["batch"] for b in printed["batches"]] == ["B0001", "B0002", "B0003"]
    assert sum(len(b["faults"]) for b in printed["batches"]) == 1
    assert "simulated 3/3 batches" in err
    assert "3 batches (1 faulty)" in err
    summary = pq.read_table(out / "summary.parquet").to_pylist()
    assert [row["faulty"] for row in summary].count(True) == 1
    assert {row["scale_l"] for row in summary} == {200.0}
    assert pq.read_table(out / "faults.parquet").num_rows == 1
    assert not (out / "timeseries.csv").exists()


def test_simulate_table_lists_each_batch_with_regime_and_fault(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--format table prints a row per batch (regime, harvest, fault) and a total."""
    argv = ["--batches", "2", "--faulty", "1", "--seed", "4", "--days", "2", "--workers", "1"]
    code = main([*argv, "--interval-min", "60", "--out", str(tmp_path / "d"), "--format", "table"])
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["batch", "regime", "titer"]
    rows = {line.split()[0]: line for line in lines[1:-1]}
    assert set(rows) == {"B0001", "B0002"}
    assert sum(line.rstrip().endswith("-") for line in rows.values()) == 1
    assert lines[-1] == "2 batches, 1 faulty"


def test_older_format_spelling_still_chooses_the_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--format csv, as scripts wrote it before --files, writes CSV only and prints JSON."""
    out = tmp_path / "d"
    argv = ["--batches", "1", "--days", "2", "--workers", "1", "--interval-min", "60"]
    assert main([*argv, "--out", str(out), "--format", "csv"]) == 0
    assert json.loads(capsys.readouterr().out)["batches"][0]["batch"] == "B0001"
    assert (out / "summary.csv").exists()
    assert not (out / "summary.parquet").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scale", "-5"], "--scale: must be a positive volume in L, got -5"),
        (["--scale", "50000"], "reactor.working_volume_l: 50000 L is outside"),
        (["--batches", "2", "--faulty", "3"], "faulty: must lie between 0 and batches (2)"),
        (["--faults", "gremlin", "--faulty", "1"], "fault_kinds: unknown fault 'gremlin'"),
        (["--regimes", "perfusion"], "regime: unknown regime 'perfusion'"),
        (["--interval-min", "7"], "settings.sensor_interval_min: must be a whole multiple"),
        (["--workers", "0"], "workers: must be at least 1"),
    ],
)
def test_bad_input_exits_non_zero_naming_the_parameter(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    """Impossible options give exit status 2 and a message with parameter and reason."""
    code = main(["--out", str(tmp_path / "x"), "--days", "2", *args])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_missing_out_is_an_argparse_error(capsys: pytest.CaptureFixture[str]) -> None:
    """--out is required."""
    with pytest.raises(SystemExit) as caught:
        main(["--batches", "1"])
    assert caught.value.code == 2
    assert "--out" in capsys.readouterr().err
