"""docs/api.md lists every endpoint the API serves, and no endpoint it does not."""

from __future__ import annotations

import re
from pathlib import Path

from opencdmo.api import api

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "api.md"
_ROW = re.compile(r"^\| `(?P<method>GET|POST|PUT|PATCH|DELETE) (?P<path>/[^`?\s]*)")


def _shape(path: str) -> str:
    """``/sites/{site_id}`` and ``/sites/{id}`` are the same endpoint."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def _served() -> set[str]:
    """The product's endpoints; the test settings may add fixture apps' ones, named otherwise."""
    schema = api.get_openapi_schema()
    prefix = "/api/v1"
    return {
        f"{method.upper()} {_shape(path.removeprefix(prefix))}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if operation["operationId"].startswith("opencdmo_")
    }


def _documented() -> set[str]:
    rows = (_ROW.match(line) for line in GUIDE.read_text(encoding="utf-8").splitlines())
    return {f"{row['method']} {_shape(row['path'])}" for row in rows if row}


def test_every_endpoint_is_in_the_guide() -> None:
    """A new endpoint needs its row (and its example) in docs/api.md."""
    assert sorted(_served() - _documented()) == []


def test_the_guide_lists_no_missing_endpoint() -> None:
    """A row for an endpoint that is gone misleads integrators."""
    assert sorted(_documented() - _served()) == []
