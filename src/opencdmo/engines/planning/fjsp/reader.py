"""Reader of Brandimarte's flexible job-shop text format."""

from __future__ import annotations

from pathlib import Path

from opencdmo.engines.planning.errors import InstanceError
from opencdmo.engines.planning.fjsp.problem import FjspJob, FjspOperation, FjspProblem


def read_fjsp(path: Path | str) -> FjspProblem:
    """Read a Brandimarte ``.fjs`` file.

    Parameters
    ----------
    path
        The instance file: a header ``jobs machines [average]``, then one line per job with
        the operation count and, per operation, ``k`` followed by ``k`` pairs
        ``machine time``.

    Returns
    -------
    FjspProblem
        The instance, with ``id`` the file name without its extension.

    Raises
    ------
    InstanceError
        Naming the file, the line and the reason.
    """
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InstanceError("", f"cannot read file: {error}", source) from error
    return parse_fjsp(text, Path(path).stem, source)


def parse_fjsp(text: str, instance_id: str, source: str | None = None) -> FjspProblem:
    """Parse the text of a Brandimarte file.

    Parameters
    ----------
    text
        The file contents.
    instance_id
        Identifier of the instance.
    source
        File name for error messages.

    Returns
    -------
    FjspProblem
        The instance.
    """
    lines = [(number, line.split()) for number, line in enumerate(text.splitlines(), start=1)]
    lines = [(number, tokens) for number, tokens in lines if tokens]
    try:
        if not lines:
            raise InstanceError("line 1", "empty file")
        header_line, header = lines[0]
        if len(header) < 2:
            raise InstanceError(f"line {header_line}", "header needs '<jobs> <machines>'")
        job_count = _int(header[0], f"line {header_line}", "job count")
        machine_count = _int(header[1], f"line {header_line}", "machine count")
        if job_count < 1 or machine_count < 1:
            raise InstanceError(f"line {header_line}", "job and machine counts must be ≥ 1")
        if len(lines) - 1 < job_count:
            raise InstanceError("", f"header announces {job_count} jobs, file has {len(lines) - 1}")
        jobs = tuple(
            _job(tokens, f"line {number}", machine_count)
            for number, tokens in lines[1 : job_count + 1]
        )
        if len(lines) - 1 > job_count:
            raise InstanceError(f"line {lines[job_count + 1][0]}", "more job lines than announced")
        return FjspProblem(id=instance_id, machine_count=machine_count, jobs=jobs)
    except InstanceError as error:
        raise error.within("", source) from None


def _int(token: str, where: str, what: str) -> int:
    try:
        return int(token)
    except ValueError:
        raise InstanceError(where, f"{what} must be an integer, got {token!r}") from None


def _job(tokens: list[str], where: str, machine_count: int) -> FjspJob:
    values = [_int(token, where, "every entry") for token in tokens]
    count = values[0]
    position = 1
    operations = []
    for index in range(count):
        if position >= len(values):
            raise InstanceError(where, f"operation {index + 1} of {count} is missing")
        k = values[position]
        pairs = values[position + 1 : position + 1 + 2 * k]
        if k < 1 or len(pairs) != 2 * k:
            raise InstanceError(where, f"operation {index + 1} needs {k} machine/time pairs")
        alternatives = tuple((pairs[2 * n], pairs[2 * n + 1]) for n in range(k))
        for machine, duration in alternatives:
            if not 1 <= machine <= machine_count:
                raise InstanceError(where, f"operation {index + 1}: machine {machine} out of range")
            if duration < 0:
                raise InstanceError(where, f"operation {index + 1}: negative time {duration}")
        operations.append(FjspOperation(alternatives))
        position += 1 + 2 * k
    if position != len(values):
        raise InstanceError(
            where, f"{len(values) - position} trailing value(s) after {count} operations"
        )
    return FjspJob(tuple(operations))
