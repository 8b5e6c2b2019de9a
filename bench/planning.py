"""Planning benchmarks: our objective, status and time next to the published references.

Run ``python bench/planning.py`` (everything, about 10 minutes: ten FJSP runs of 60 s when
the extra Brandimarte files are given) or ``python bench/planning.py --quick`` (no 60 s FJSP
runs). Every solution is verified by the independent checker; a failed check is printed in the
``check`` column. Instances come from ``tests/data/planning`` (vendored, with sources and licences).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opencdmo.engines.planning import (
    CheckReport,
    Result,
    ScheduledBatch,
    ScheduleProblem,
    check_campaign_solution,
    check_fjsp_solution,
    check_schedule_solution,
    check_stn_solution,
    parse_stn,
    read_campaign,
    read_fjsp,
    read_stn,
    solve,
)
from opencdmo.engines.planning.json_fields import load_document
from opencdmo.engines.planning.schedule.decomposition import independent_parts
from planning_cdmo import BREAKDOWN_SUITE, breakdown_reschedule, generate_cdmo_instance

REPOSITORY = Path(__file__).resolve().parents[1]
BENCHMARKS = REPOSITORY / "tests" / "data" / "planning"
TEST_DATA = BENCHMARKS

FJSP_BEST_KNOWN = {
    "mk01": 40,
    "mk02": 26,
    "mk03": 204,
    "mk04": 60,
    "mk05": 172,
    "mk06": 57,
    "mk07": 139,
    "mk08": 523,
    "mk09": 307,
    "mk10": 189,
}
FJSP_PEERS = {"mk01": 40, "mk02": 26, "mk03": 204, "mk04": 60, "mk05": 173}
STN_PEER = "Pyomo+GLPK/CBC 0.10-0.2 s; goal < 0.05 s"
LONG_HORIZONS_H = (48, 96, 168)
RESCHEDULE_S = 20.0
FILL_FINISH_S = 40.0
TIMING_BUDGET_S = 30.0
"""Runs of one instance stop once they have taken this long together."""


@dataclass(frozen=True)
class Row:
    """One line of the table."""

    instance: str
    objective: float | None
    status: str
    wall_s: float
    reference: str
    check: str


@dataclass(frozen=True)
class Timing:
    """Wall times of one instance over the seeds ``0 … len(times) − 1``."""

    times: tuple[float, ...]

    @property
    def median(self) -> float:
        """Median over the seeds."""
        return statistics.median(self.times)

    def spread(self) -> str:
        """The seeds and the range of their times, for the reference column."""
        if len(self.times) == 1:
            return "seed 0"
        return f"seeds 0-{len(self.times) - 1}: {min(self.times):.2f}-{max(self.times):.2f} s"


def _timed(
    read: Callable[[], Any], time_limit: float, threads: int, repeat: int
) -> tuple[Any, Result[Any], Timing]:
    """Read and solve with seeds ``0, 1, …`` up to ``repeat`` times (fewer once the runs
    have taken ``TIMING_BUDGET_S``); return the problem, the last result and the times.

    Solvers are deterministic for a seed but their time varies with it, so the median over
    seeds, not over repeats of one seed, is the typical time.
    """
    times = []
    problem: Any = None
    result: Result[Any] | None = None
    for seed in range(repeat):
        started = time.perf_counter()
        problem = read()
        result = solve(problem, time_limit=time_limit, threads=threads, seed=seed)
        times.append(time.perf_counter() - started)
        if sum(times) > TIMING_BUDGET_S:
            break
    assert result is not None
    return problem, result, Timing(tuple(times))


def _checked(
    checker: Callable[[Any, Any, float | None], CheckReport], problem: Any, result: Result[Any]
) -> CheckReport | None:
    """The independent checker's report on ``result``, or ``None`` without a solution."""
    if result.solution is None:
        return None
    return checker(problem, result.solution, result.objective)


def _verdict(report: CheckReport | None) -> str:
    if report is None:
        return "no solution"
    return "ok" if report.ok else "FAILED: " + report.violations[0]


def _matches(objective: float | None, reference: float) -> str:
    if objective is None:
        return "no"
    return "yes" if abs(objective - reference) <= 1e-6 * max(1.0, abs(reference)) else "no"


def stn_rows(repeat: int) -> Iterator[Row]:
    """Every STN reference instance, then Kondili at long horizons."""
    for path in sorted((BENCHMARKS / "stn").glob("*.json")):
        problem, result, timing = _timed(functools.partial(read_stn, path), 600, 1, repeat)
        reference = (load_document(path).get("reference") or {}).get("objective")
        report = _checked(check_stn_solution, problem, result)
        label = (
            "-"
            if reference is None
            else f"{reference} (match: {_matches(result.objective, reference)}); {STN_PEER}; "
            f"median of {timing.spread()}"
        )
        yield Row(
            f"stn/{path.stem}",
            result.objective,
            result.status.value,
            timing.median,
            label,
            _verdict(report),
        )
    kondili = BENCHMARKS / "stn" / "kondili_h10_unlimited_storage.json"
    for horizon_h in LONG_HORIZONS_H:
        document = load_document(kondili)
        document["time"]["horizon_h"] = horizon_h
        document["id"] = f"kondili_h{horizon_h}"
        problem, result, timing = _timed(functools.partial(parse_stn, document), 600, 1, 1)
        report = _checked(check_stn_solution, problem, result)
        yield Row(
            f"stn/kondili H={horizon_h} h",
            result.objective,
            result.status.value,
            timing.median,
            f"no published value; bound {result.bound:.6g}" if result.bound is not None else "-",
            _verdict(report),
        )


def campaign_rows(repeat: int, threads: tuple[int, ...] = (1, 2)) -> Iterator[Row]:
    """Every campaign reference instance, with Examples 2 and 2-modified from the test data,
    on one core and on two (two seeded HiGHS searches racing)."""
    extra = sorted(TEST_DATA.glob("lakhdar2005_*.json"))
    for path in [*sorted((BENCHMARKS / "campaign").glob("*.json")), *extra]:
        block = load_document(path).get("reference") or {}
        reference = block.get("objective")
        for cores in threads:
            problem, result, timing = _timed(
                functools.partial(read_campaign, path), 600, cores, repeat
            )
            report = _checked(check_campaign_solution, problem, result)
            label = "-"
            if reference is not None:
                label = (
                    f"{reference} (match: {_matches(result.objective, reference)}); "
                    f"CPLEX {block.get('wall_s', '?')} s (4 threads); median of {timing.spread()}"
                )
            yield Row(
                f"campaign/{path.stem} ({cores} core{'s' if cores > 1 else ''})",
                result.objective,
                result.status.value,
                timing.median,
                label,
                _verdict(report),
            )


def fjsp_rows(
    directories: list[Path], time_limit: float, threads: int
) -> tuple[list[Row], list[float]]:
    """Brandimarte instances at ``time_limit`` seconds; returns rows and gaps to the best known."""
    rows = []
    gaps = []
    paths = sorted({p.stem: p for d in directories for p in d.glob("*.fjs")}.items())
    for name, path in paths:
        problem, result, timing = _timed(functools.partial(read_fjsp, path), time_limit, threads, 1)
        report = _checked(check_fjsp_solution, problem, result)
        best = FJSP_BEST_KNOWN.get(name)
        parts = []
        if best is not None and result.objective is not None:
            gap = (result.objective - best) / best
            gaps.append(gap)
            parts.append(f"best known {best} (gap {100 * gap:.2f} %)")
        if name in FJSP_PEERS:
            parts.append(f"peers {FJSP_PEERS[name]}")
        parts.append(f"bound {result.bound:g}" if result.bound is not None else "no bound")
        rows.append(
            Row(
                f"fjsp/{name}",
                result.objective,
                result.status.value,
                timing.median,
                "; ".join(parts),
                _verdict(report),
            )
        )
    return rows, gaps


def cdmo_rows(time_limit: float, threads: int) -> Iterator[Row]:
    """The generated CDMO instance stopped at 0.5 s, at 5 s and at ``time_limit``: how soon a
    checked schedule exists, and how close it gets to the bound; then a reschedule of the last
    plan after a breakdown, and its fill-finish part alone."""
    problem = generate_cdmo_instance(seed=7)
    published = None
    for limit in (0.5, 5.0, time_limit):
        started = time.perf_counter()
        result = solve(problem, time_limit=limit, threads=threads, seed=0)
        wall_s = time.perf_counter() - started
        report = _checked(check_schedule_solution, problem, result)
        gap = "-" if result.gap is None else f"{100 * result.gap:.2f} %"
        yield Row(
            f"schedule/cdmo_200 ({limit:g} s)",
            result.objective,
            result.status.value,
            wall_s,
            f"goal: feasible < 5 s, gap < 2 % at 60 s; gap {gap}, bound {result.bound}",
            _verdict(report),
        )
        if result.solution is not None:
            published = (result.objective, result.solution.batches)
    if published is not None:
        yield _reschedule_row(problem, *published, threads)
    yield _fill_finish_row(problem, threads)


def _fill_finish_row(problem: ScheduleProblem, threads: int) -> Row:
    """The fill-finish lines alone (60 lots on 3 suites, no upstream): a part of medium size,
    which CP-SAT's full search can prove optimal."""
    part = min(independent_parts(problem), key=lambda candidate: len(candidate.batches))
    started = time.perf_counter()
    result = solve(part, time_limit=FILL_FINISH_S, threads=threads, seed=0)
    wall_s = time.perf_counter() - started
    report = _checked(check_schedule_solution, part, result)
    return Row(
        f"schedule/cdmo_200 fill-finish part ({FILL_FINISH_S:g} s)",
        result.objective,
        result.status.value,
        wall_s,
        f"{len(part.batches)} lots on {len(part.suites)} suites; bound {result.bound}",
        _verdict(report),
    )


def _reschedule_row(
    problem: ScheduleProblem,
    cost: float | None,
    published: tuple[ScheduledBatch, ...],
    threads: int,
) -> Row:
    """Reschedule ``published`` after the breakdown of :func:`breakdown_reschedule`."""
    disrupted = breakdown_reschedule(problem, published)
    started = time.perf_counter()
    result = solve(disrupted, time_limit=RESCHEDULE_S, threads=threads, seed=0)
    wall_s = time.perf_counter() - started
    report = _checked(check_schedule_solution, disrupted, result)
    moved = "-"
    if result.solution is not None:
        before = {(item.batch, item.suite, item.start_h) for item in published}
        moved = str(
            sum((b.batch, b.suite, b.start_h) not in before for b in result.solution.batches)
        )
    frozen = sum(b.frozen for b in disrupted.batches)
    return Row(
        f"schedule/cdmo_200 breakdown ({RESCHEDULE_S:g} s)",
        result.objective,
        result.status.value,
        wall_s,
        f"{BREAKDOWN_SUITE} down 2 weeks from week 5, {frozen} batches frozen; plan in force"
        f" cost {cost}, {moved} batches moved",
        _verdict(report),
    )


def _print(rows: list[Row]) -> None:
    header = ("instance", "objective", "status", "time_s", "reference / peers", "check")
    table = [header] + [
        (
            r.instance,
            "-" if r.objective is None else f"{r.objective:.10g}",
            r.status,
            f"{r.wall_s:.3f}",
            r.reference,
            r.check,
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip(),
            flush=True,
        )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 60 s FJSP and CDMO runs")
    parser.add_argument(
        "--repeat", type=int, default=5, help="seeds per MILP instance (median time)"
    )
    parser.add_argument("--fjsp-time-limit", type=float, default=60.0)
    parser.add_argument("--fjsp-threads", type=int, default=2)
    parser.add_argument(
        "--extra-fjsp",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="another folder of Brandimarte .fjs files (for mk06-mk10)",
    )
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    rows = [*stn_rows(args.repeat), *campaign_rows(args.repeat)]
    _print(rows)
    if not args.quick:
        fjsp, gaps = fjsp_rows(
            [BENCHMARKS / "fjsp", *args.extra_fjsp], args.fjsp_time_limit, args.fjsp_threads
        )
        cdmo = list(cdmo_rows(60.0, args.fjsp_threads))
        rows += fjsp + cdmo
        print()
        _print(fjsp + cdmo)
        if gaps:
            print(
                f"\nFJSP mean gap to best known over {len(gaps)} instances: {100 * statistics.mean(gaps):.2f} %"
            )
    if args.json:
        args.json.write_text(
            json.dumps([dataclasses.asdict(r) for r in rows], indent=1), encoding="utf-8"
        )
    failed = [r for r in rows if r.check != "ok"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
