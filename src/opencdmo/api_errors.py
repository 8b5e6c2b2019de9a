"""The error bodies of ``/api/v1/``, declared so the OpenAPI document lists every answer.

The exception handlers in ``opencdmo.api`` and the NUL guard in ``opencdmo.web.middleware``
write these bodies; each operation declares the statuses it can give with ``answers``.
"""

from __future__ import annotations

from typing import Any

from ninja import Field, Schema

__all__ = ["ErrorOut", "FieldErrorOut", "InvalidOut", "RejectedOut", "answers"]


class ErrorOut(Schema):
    """401, 403 and 404: one sentence saying what went wrong."""

    detail: str


class FieldErrorOut(Schema):
    field: str = Field(description="Dotted path of the offending input, or 'request'")
    message: str


class InvalidOut(Schema):
    """422: the request does not fit the operation's parameters or body."""

    detail: str
    errors: list[FieldErrorOut]


class RejectedOut(Schema):
    """400: a NUL character anywhere in the request, or a change the records refuse."""

    detail: str
    errors: dict[str, list[str]] = Field(
        default_factory=dict, description="Messages per field, when a change was refused"
    )


_BODIES: dict[int, type[Schema]] = {
    400: RejectedOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    422: InvalidOut,
}


def answers(ok: Any, *statuses: int, success: int = 200) -> dict[int, Any]:
    """``response=`` for an operation: ``ok`` for ``success`` (200, or 201 for a creation)
    and the error body of each status."""
    return {success: ok, **{status: _BODIES[status] for status in statuses}}
