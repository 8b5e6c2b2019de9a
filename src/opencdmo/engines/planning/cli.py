"""``opencdmo plan``: solve a planning instance file and print an ``opencdmo-result/1`` document.

The result document goes to stdout and nothing else does; progress and the checker's verdict
go to stderr. ``--format table`` prints a summary for people instead: status, objective with
its meaning, bound, gap, time, why an instance is infeasible, and the plan per suite or unit. Exit status: 0 when a document was printed (whatever its status), 2 when the
instance was rejected, 1 for any other failure.

``opencdmo plan check KIND INSTANCE RESULT`` verifies a result document of any solver with the
independent checker and prints ``{"ok", "objective", "violations"}``; it exits 0 when the
schedule is valid, 3 when it violates a constraint, 2 when a file is rejected.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from opencdmo.engines.planning.campaign.lateness import explain_lateness
from opencdmo.engines.planning.campaign.solution import CampaignSolution
from opencdmo.engines.planning.errors import InstanceError
from opencdmo.engines.planning.registry import PROBLEM_KINDS, ProblemKind, solve
from opencdmo.engines.planning.result_reader import read_result
from opencdmo.engines.planning.schedule.problem import ScheduleProblem
from opencdmo.engines.planning.schedule.solution import ScheduleSolution
from opencdmo.engines.planning.summary import summary_table

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_REJECTED = 2
EXIT_INVALID_SCHEDULE = 3


@dataclass(frozen=True)
class _Options:
    kind: ProblemKind
    file: str
    time_limit: float
    threads: int
    seed: int
    check: bool
    explain_lateness: bool = False
    plan_in_force: str | None = None
    freeze_before_h: int | None = None
    output: str = "json"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="opencdmo plan",
        description="Solve a planning instance and print an opencdmo-result/1 document on stdout.",
    )
    commands = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    for kind in PROBLEM_KINDS.values():
        sub = commands.add_parser(kind.name, help=kind.help, description=kind.help)
        sub.add_argument("file", metavar="FILE", help=kind.file_help)
        sub.add_argument(
            "--time-limit",
            type=_positive_float,
            default=600.0,
            metavar="SECONDS",
            help="wall-clock limit of the solver (default 600)",
        )
        sub.add_argument(
            "--threads",
            type=_positive_int,
            default=1,
            metavar="N",
            help="cores to use (default 1): CP-SAT workers, or racing seeded HiGHS searches",
        )
        sub.add_argument("--seed", type=int, default=0, help="solver random seed (default 0)")
        sub.add_argument(
            "--format",
            dest="output",
            choices=("json", "table"),
            default="json",
            help="json: the opencdmo-result/1 document (default); table: a summary for people",
        )
        sub.add_argument(
            "--no-check",
            dest="check",
            action="store_false",
            help="skip the independent solution check (reported on stderr)",
        )
        if kind.name == "schedule":
            sub.add_argument(
                "--plan-in-force",
                metavar="RESULT",
                help="reschedule: an opencdmo-result/1 document whose schedule becomes every"
                " batch's published place (warm start, reference for schedule_changes)",
            )
            sub.add_argument(
                "--freeze-before",
                type=int,
                metavar="HOURS",
                help="with --plan-in-force: freeze the batches it starts before this time",
            )
        if kind.name == "campaign":
            sub.add_argument(
                "--explain-lateness",
                action="store_true",
                help="after solving, name the limits that make each late demand late (stderr)",
            )
    checker = commands.add_parser(
        "check",
        help="verify an opencdmo-result/1 document with the independent checker",
        description="Verify an opencdmo-result/1 document with the independent checker.",
    )
    checker.add_argument(
        "check_kind",
        choices=sorted(PROBLEM_KINDS),
        metavar="KIND",
        help="the problem kind: " + ", ".join(sorted(PROBLEM_KINDS)),
    )
    checker.add_argument("file", metavar="INSTANCE", help="the instance file the result solves")
    checker.add_argument("result", metavar="RESULT", help="an opencdmo-result/1 JSON file")
    return parser


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be ≥ 1, got {text}")
    return value


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Send anything a solver library writes to file descriptor 1 to stderr instead."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _log(message: str) -> None:
    print(f"opencdmo plan: {message}", file=sys.stderr, flush=True)


def _run(options: _Options, write: Callable[[str], Any]) -> int:
    started = time.perf_counter()
    try:
        problem = options.kind.read(options.file)
        if options.plan_in_force is not None:
            problem = _with_plan_in_force(
                problem, options.file, options.plan_in_force, options.freeze_before_h
            )
    except InstanceError as error:
        _log(f"rejected: {error}")
        return EXIT_REJECTED
    _log(f"solving {options.file} ({options.kind.name}, time limit {options.time_limit:g} s)")
    with _stdout_to_stderr():
        result = solve(
            problem, time_limit=options.time_limit, threads=options.threads, seed=options.seed
        )
    result = dataclasses.replace(result, wall_s=time.perf_counter() - started)
    _log(f"{result.status.value}: objective {result.objective}, bound {result.bound}")
    for conflict in result.conflicts:
        _log(f"infeasible because {conflict.reason}")
    verdict = None
    if options.check and result.solution is not None:
        report = options.kind.check(problem, result.solution, result.objective)
        verdict = "passed" if report.ok else "FAILED: " + "; ".join(report.violations)
        _log(f"independent check {verdict}")
    if options.explain_lateness and isinstance(result.solution, CampaignSolution):
        for late in explain_lateness(
            problem, result.solution, time_limit=options.time_limit, threads=options.threads
        ):
            causes = ", ".join(cause.value for cause in late.causes)
            _log(
                f"late: {late.product} has {late.backlog_batches:g} batch(es) open at the end "
                f"of period {late.period}; cause: {causes}"
            )
    if options.output == "table":
        write(summary_table(result, verdict))
    else:
        write(json.dumps(result.document(), indent=1) + "\n")
    return EXIT_OK


def _with_plan_in_force(
    problem: ScheduleProblem, instance: str, result: str, freeze_before_h: int | None
) -> ScheduleProblem:
    """``problem`` (read from ``instance``) set up to reschedule the schedule of the result
    document ``result``."""
    solution, _ = read_result(result, problem)
    if not isinstance(solution, ScheduleSolution):
        raise InstanceError("schedule", "the document holds no schedule to reschedule", result)
    try:
        return problem.with_plan_in_force(solution.batches, freeze_before_h)
    except InstanceError as error:
        raise InstanceError(
            error.path, f"with the plan in force of {result}: {error.reason}", instance
        ) from None


def _check(kind: ProblemKind, instance: str, result: str) -> int:
    try:
        problem = kind.read(instance)
        solution, objective = read_result(result, problem)
    except InstanceError as error:
        _log(f"rejected: {error}")
        return EXIT_REJECTED
    if solution is None:
        _log(f"{result}: no schedule to check")
        print(json.dumps({"ok": True, "objective": None, "violations": []}))
        return EXIT_OK
    report = kind.check(problem, solution, objective)
    verdict = {
        "ok": report.ok,
        "objective": report.objective,
        "violations": list(report.violations),
    }
    print(json.dumps(verdict, indent=1))
    return EXIT_OK if report.ok else EXIT_INVALID_SCHEDULE


def main(argv: list[str] | None = None) -> int:
    """Run ``opencdmo plan KIND FILE [options]``.

    Parameters
    ----------
    argv
        Arguments after ``plan``; ``sys.argv[1:]`` when ``None``.

    Returns
    -------
    int
        The exit status.
    """
    parser = _parser()
    args = parser.parse_args(argv)
    if getattr(args, "freeze_before", None) is not None and args.plan_in_force is None:
        parser.error("--freeze-before needs --plan-in-force")
    if args.kind == "check":
        return _check(PROBLEM_KINDS[args.check_kind], args.file, args.result)
    options = _Options(
        kind=PROBLEM_KINDS[args.kind],
        file=args.file,
        time_limit=args.time_limit,
        threads=args.threads,
        seed=args.seed,
        check=args.check,
        explain_lateness=getattr(args, "explain_lateness", False),
        plan_in_force=getattr(args, "plan_in_force", None),
        freeze_before_h=getattr(args, "freeze_before", None),
        output=args.output,
    )
    try:
        return _run(options, sys.stdout.write)
    except Exception as error:
        _log(f"failed: {type(error).__name__}: {error}")
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
