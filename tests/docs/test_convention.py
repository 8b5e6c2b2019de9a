"""The docs-example runner itself: what it runs, what it checks, how it reports a failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs.test_examples import ConventionError, examples, run_document, unmatched

FENCE = "```"


def _doc(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "doc.md"
    path.write_text(body.replace("'''", FENCE), encoding="utf-8")
    return path


def test_only_console_blocks_are_examples(tmp_path: Path) -> None:
    """`sh` and `text` blocks are shown, not run; commands keep their expected lines."""
    doc = _doc(
        tmp_path,
        "'''sh\n$ opencdmo demo\n'''\n\n'''console\n$ echo a  # exits 3\nA\n...\n\nB\n'''\n"
        "'''text\n$ not run\n'''\n",
    )
    (only,) = examples(doc)
    assert (only.command, only.status, only.expected) == ("echo a  # exits 3", 3, ["A", "B"])


def test_output_before_a_command_is_a_mistake(tmp_path: Path) -> None:
    """A console block that starts with output cannot be checked, so it is refused."""
    with pytest.raises(ConventionError, match="line 2"):
        examples(_doc(tmp_path, "'''console\nstray\n$ true\n'''\n"))


def test_unclosed_block_is_a_mistake(tmp_path: Path) -> None:
    """A fence left open would hide the rest of the document."""
    with pytest.raises(ConventionError, match="never closed"):
        examples(_doc(tmp_path, "'''console\n$ true\n"))


@pytest.mark.parametrize(
    ("expected", "missing"),
    [
        (["one", "three"], None),
        (["three", "one"], "one"),
        (["two", "two"], "two"),
        (["tw"], None),
        (["four"], "four"),
    ],
)
def test_expected_lines_match_in_order(expected: list[str], missing: str | None) -> None:
    """Each expected line is a substring of a later output line than the one before it."""
    assert unmatched(expected, "  one\ntwo  \n three\n") == missing


def test_commands_share_a_shell_and_a_folder(tmp_path: Path) -> None:
    """A variable and a file made by one command are there for the next; status is checked."""
    doc = _doc(
        tmp_path,
        "'''console\n$ NAME=world; echo hi > greeting.txt\n$ cat greeting.txt; echo $NAME\n"
        "hi\nworld\n$ ls examples >/dev/null && false  # exits 1\n"
        "$ echo $OPENCDMO_DATA_DIR; echo ${DATABASE_URL:-unset}\n/work/var\nunset\n'''\n",
    )
    assert run_document(doc, tmp_path / "run") is None


def test_failure_names_command_expected_line_and_output(tmp_path: Path) -> None:
    """The report shows where, the command, what was missing and everything it printed."""
    doc = _doc(
        tmp_path, "'''console\n$ echo hello; echo there >&2\nhello\nbye\n$ echo never\n'''\n"
    )
    failure = run_document(doc, tmp_path / "run")
    assert failure is not None
    assert "doc.md, line 2" in failure
    assert "$ echo hello; echo there >&2" in failure
    assert "'bye'" in failure
    assert "there" in failure


def test_wrong_status_is_reported_and_stops_the_document(tmp_path: Path) -> None:
    """A command exiting otherwise than promised fails; the commands after it do not run."""
    doc = _doc(tmp_path, "'''console\n$ exit_code() { return 4; }; exit_code\n$ touch later\n'''\n")
    failure = run_document(doc, tmp_path / "run")
    assert failure is not None
    assert "exited 4, expected 0" in failure
    assert not (tmp_path / "run" / "work" / "later").exists()


def test_a_hanging_command_is_stopped(tmp_path: Path) -> None:
    """A command that never ends is killed at the timeout and reported as unfinished."""
    doc = _doc(tmp_path, "'''console\n$ sleep 60\n'''\n")
    failure = run_document(doc, tmp_path / "run", timeout_s=1)
    assert failure is not None
    assert "did not finish" in failure
