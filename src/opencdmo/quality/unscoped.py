"""Services that follow a record's relations (deviation → project → sponsor) whoever calls."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django_scopes import scopes_disabled

P = ParamSpec("P")
R = TypeVar("R")


def unscoped(service: Callable[P, R]) -> Callable[P, R]:
    """Run ``service`` outside the caller's scope: it authorises the caller explicitly (the
    declaration's write check, 403/404) before it reads anything on the caller's behalf."""

    @functools.wraps(service)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with scopes_disabled():
            return service(*args, **kwargs)

    return run
