"""Result documents of any solver can be read back and verified by the independent checkers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from opencdmo.engines.planning.cli import main
from tests.engines.planning.conftest import BENCHMARKS, DATA, KONDILI

CASES = [
    ("stn", KONDILI),
    ("campaign", DATA / "lakhdar2005_example2.json"),
    ("schedule", DATA / "two_site_suites.json"),
    ("fjsp", BENCHMARKS / "fjsp" / "mk01.fjs"),
]


def produce(kind: str, instance: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """Solve with the command line and store the result document."""
    assert main([kind, str(instance), "--time-limit", "30", "--no-check"]) == 0
    result = tmp_path / f"{kind}.json"
    result.write_text(capsys.readouterr().out, encoding="utf-8")
    return result


@pytest.mark.parametrize(("kind", "instance"), CASES)
def test_own_results_pass_the_check_command(
    kind: str, instance: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every problem class: solve, write the document, read it back, and the checker agrees."""
    result = produce(kind, instance, tmp_path, capsys)
    assert main(["check", kind, str(instance), str(result)]) == 0
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["ok"] is True
    assert verdict["objective"] == pytest.approx(json.loads(result.read_text())["objective"])


def test_tampered_batch_size_fails_with_exit_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Changing one batch size breaks the inventory balances: exit 3 with violations listed."""
    result = produce("stn", KONDILI, tmp_path, capsys)
    document = json.loads(result.read_text())
    document["schedule"]["batches"][0]["batch_kg"] += 1.0
    result.write_text(json.dumps(document), encoding="utf-8")
    assert main(["check", "stn", str(KONDILI), str(result)]) == 3
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["ok"] is False
    assert any("differs from the balance" in line for line in verdict["violations"])


def test_breakdown_is_optional(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A document without objective_breakdown is still checked on its schedule and objective."""
    result = produce("stn", KONDILI, tmp_path, capsys)
    document = json.loads(result.read_text())
    del document["objective_breakdown"]
    result.write_text(json.dumps(document), encoding="utf-8")
    assert main(["check", "stn", str(KONDILI), str(result)]) == 0


def test_wrong_format_is_rejected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file that is not an opencdmo-result/1 document is rejected with exit 2."""
    result = tmp_path / "other.json"
    result.write_text('{"format": "something-else"}', encoding="utf-8")
    assert main(["check", "stn", str(KONDILI), str(result)]) == 2
    assert "format: must be 'opencdmo-result/1'" in capsys.readouterr().err
