"""Every ``console`` example in ``docs/*.md`` and ``README.md`` runs and shows what it says.

The convention, shared by everyone who writes docs:

- Every fenced block with the info string ``console`` is run; ``sh`` blocks are only shown
  (use ``sh`` only for long-running servers such as ``opencdmo demo`` / ``opencdmo serve``).
- In a ``console`` block, a line starting with ``$ `` is a command. The blocks of one document
  run in order, with bash, in a fresh temporary folder per document that holds a copy of the
  repository's ``examples/`` folder; ``.venv/bin`` is first on PATH, ``DATABASE_URL`` is unset
  and ``OPENCDMO_DATA_DIR`` points to ``var/`` inside that temporary folder.
- A command must exit 0, unless the command line ends with ``  # exits N``, then it must
  exit N.
- The lines after a command up to the next ``$ `` line are expected output: each non-empty
  line must occur, in order, as a substring of a line of the command's stdout+stderr (both
  whitespace-trimmed). A line that is exactly ``...`` stands for any output and is skipped.

The commands of one document share one bash process, as they would share a terminal: a
variable set or a folder entered by one command is there for the next.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCUMENTS = [*sorted((REPO / "docs").glob("*.md")), REPO / "README.md"]
VENV_BIN = REPO / ".venv" / "bin"
if not VENV_BIN.is_dir():
    VENV_BIN = Path(sys.executable).parent
DOCUMENT_TIMEOUT_S = 900

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
_EXITS = re.compile(r"\s+#\s*exits\s+(?P<status>\d+)\s*$")


def _shown(path: Path) -> str:
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


@dataclass
class Example:
    """One ``$ `` command of a document with the output it promises."""

    document: Path
    line: int
    command: str
    status: int = 0
    expected: list[str] = field(default_factory=list)


class ConventionError(ValueError):
    """A console block that does not follow the convention."""


def examples(document: Path) -> list[Example]:
    """The commands of every ``console`` block of ``document``, in order."""
    found: list[Example] = []
    fence = ""
    in_console = False
    first_of_block = 0
    for number, raw in enumerate(document.read_text(encoding="utf-8").splitlines(), start=1):
        stripped = raw.strip()
        if not fence:
            match = _FENCE.match(raw)
            if match:
                fence = match["fence"]
                in_console = match["info"].split()[:1] == ["console"]
                first_of_block = len(found)
            continue
        if stripped.startswith(fence) and set(stripped) == {fence[0]}:
            fence, in_console = "", False
            continue
        if not in_console:
            continue
        if raw.startswith("$ "):
            exits = _EXITS.search(raw)
            status = int(exits["status"]) if exits else 0
            found.append(Example(document, number, raw[2:], status))
        elif stripped and stripped != "...":
            if len(found) == first_of_block:
                raise ConventionError(
                    f"{_shown(document)}, line {number}: output before the first '$ ' command "
                    f"of a console block: {stripped!r}"
                )
            found[-1].expected.append(stripped)
    if fence:
        raise ConventionError(f"{_shown(document)}: a code block is never closed")
    return found


def unmatched(expected: list[str], output: str) -> str | None:
    """The first expected line not found, in order, within a line of ``output``."""
    lines = [line.strip() for line in output.splitlines()]
    position = 0
    for wanted in expected:
        while position < len(lines) and wanted not in lines[position]:
            position += 1
        if position == len(lines):
            return wanted
        position += 1
    return None


def _script(runs: list[Example], capture: Path) -> str:
    """One bash script for the document; each command's output and status go to files.

    The script stops at the first command whose status is not the one promised: later
    commands usually build on it.
    """
    parts = []
    for index, example in enumerate(runs):
        out, status = capture / f"{index}.out", capture / f"{index}.status"
        parts.append(
            f"{{ eval {shlex.quote(example.command)}\n}} > {out} 2>&1 < /dev/null\n"
            f"echo $? > {status}\n"
            f'[ "$(cat {status})" = {example.status} ] || exit 0\n'
        )
    return "".join(parts)


def _environment(work: Path) -> dict[str, str]:
    unset = {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["OPENCDMO_DATA_DIR"] = str(work / "var")
    env["COLUMNS"] = "100"
    return env


def _failure(example: Example, status: int | None, output: str, missing: str | None) -> str:
    if status is None:
        problem = f"did not finish within {DOCUMENT_TIMEOUT_S} s for the whole document"
    elif status != example.status:
        problem = f"exited {status}, expected {example.status}"
    else:
        problem = f"printed no line containing {missing!r} (after the lines matched before it)"
    shown = output.rstrip() or "(no output)"
    return (
        f"{_shown(example.document)}, line {example.line}\n  $ {example.command}\n"
        f"  {problem}\n  output:\n{shown}"
    )


def run_document(document: Path, folder: Path, timeout_s: float = DOCUMENT_TIMEOUT_S) -> str | None:
    """Run the document's examples in ``folder``; the first failure, explained, or ``None``."""
    runs = examples(document)
    work, capture = folder / "work", folder / "capture"
    capture.mkdir(parents=True)
    work.mkdir()
    if (REPO / "examples").is_dir():
        shutil.copytree(REPO / "examples", work / "examples")
    script = capture / "script.sh"
    script.write_text(_script(runs, capture), encoding="utf-8")
    with subprocess.Popen(
        ["bash", str(script)], cwd=work, env=_environment(work), start_new_session=True
    ) as shell:
        try:
            shell.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(shell.pid, signal.SIGKILL)
            shell.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(shell.pid, signal.SIGTERM)  # a server a document left running
    for index, example in enumerate(runs):
        out, status_file = capture / f"{index}.out", capture / f"{index}.status"
        output = out.read_text(encoding="utf-8", errors="replace") if out.exists() else ""
        status = int(status_file.read_text()) if status_file.exists() else None
        missing = unmatched(example.expected, output) if status == example.status else None
        if status != example.status or missing is not None:
            return _failure(example, status, output, missing)
    return None


@pytest.mark.parametrize(
    "document", [pytest.param(document, id=_shown(document)) for document in DOCUMENTS]
)
def test_document_examples_run(document: Path, tmp_path: Path) -> None:
    """Each console command of the document exits as stated and prints its expected lines."""
    if not examples(document):
        pytest.skip("no console examples")
    failure = run_document(document, tmp_path)
    if failure:
        pytest.fail(failure, pytrace=False)


def test_every_example_file_is_used() -> None:
    """Each file in examples/ (but its READMEs) appears in a documented console command."""
    commands = "\n".join(run.command for document in DOCUMENTS for run in examples(document))
    files = sorted(
        path.relative_to(REPO).as_posix()
        for path in (REPO / "examples").rglob("*")
        if path.is_file() and path.name != "README.md" and "__pycache__" not in path.parts
    )
    unused = [name for name in files if name not in commands]
    assert unused == [], (
        f"example files no console command of docs/*.md or README.md uses: {unused}"
    )
