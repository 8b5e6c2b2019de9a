"""The caller's tenant scope, built in exactly one place.

Every tenant-owned model carries a django-scopes ``ScopedManager`` on the dimension
``organisation``; a query on such a model outside ``caller_scope`` raises ``ScopeError``
instead of leaking rows. Pages, the API, tasks and commands all enter the scope here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.http import Http404
from django_scopes import scope

from opencdmo.accounts.models import User


def visible_organisation_ids(user: Any) -> list[int]:
    """The organisations whose private records ``user`` may read: its own, or none."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    return [user.organisation_id] if user.organisation_id else []


@contextmanager
def caller_scope(user: User | Any) -> Iterator[None]:
    """Run the enclosed queries as ``user`` sees the database."""
    with scope(organisation=visible_organisation_ids(user)):
        yield


def get_owned_or_404(queryset: Any, user: User, owner_field: str, **lookup: Any) -> Any:
    """Fetch an object the caller's organisation owns; anyone else's answers like a missing one."""
    filters = {owner_field: user.organisation_id, **lookup}
    obj = queryset.filter(**filters).first() if user.organisation_id else None
    if obj is None:
        raise Http404("No such object.")
    return obj
