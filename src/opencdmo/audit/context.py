"""Where the current change comes from (request id, client address), for audit entries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip: str = ""


_EMPTY = RequestContext()
_current: ContextVar[RequestContext] = ContextVar("audit_request", default=_EMPTY)


@contextmanager
def request_context(request_id: str, ip: str) -> Iterator[None]:
    token = _current.set(RequestContext(request_id=request_id, ip=ip))
    try:
        yield
    finally:
        _current.reset(token)


def current() -> RequestContext:
    return _current.get()
