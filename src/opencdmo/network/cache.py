"""Read caches for what every signed-in reader of the site network shares.

The directory results, a site's public profile and the sites API answer are the same for every
reader, so they are rendered once per *network version* and served from Django's cache until
the version moves. Serving a stale page after a change is never acceptable, so the version is:

- the head of the audit trail (``MAX(id)`` of its entries): every service write records an
  audit entry in the same transaction, so a change committed by any process or machine, an
  import run by a worker included, moves it for every web process at once; and
- a generation counter of this process, bumped by ``post_save``/``post_delete`` of the network
  models and organisations (immediately and again on commit), so a write that bypasses the
  services in this process (a shell, a data fix, a test's fixture) is seen as well.

Reading the version costs one indexed query per request; a hit then costs no other query.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.apps import apps
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save

__all__ = ["bump_network_version", "cached", "network_version", "query_key"]

T = TypeVar("T")

# Old versions are never read again; they leave the cache by this timeout or by culling.
TIMEOUT_S = 600
_generation = itertools.count(1)
_current_generation = 0


def bump_network_version(**_: Any) -> None:
    """Invalidate this process's view of the network now and once more when the write commits.

    The second bump closes the window in which another thread of this process could cache the
    old data under the new generation before the transaction became visible.
    """
    global _current_generation
    _current_generation = next(_generation)
    transaction.on_commit(_bump_generation)


def _bump_generation() -> None:
    global _current_generation
    _current_generation = next(_generation)


def network_version() -> str:
    """The version every cached network read is keyed by; it moves with every write."""
    meta = apps.get_model("audit", "AuditEntry")._meta
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX({quote(meta.pk.column)}) FROM {quote(meta.db_table)}")
        (head,) = cursor.fetchone()
    return f"{head or 0}.{_current_generation}"


def query_key(pairs: Iterable[tuple[str, str]]) -> str:
    """A short, order-independent key for a query string's (name, value) pairs."""
    canonical = "&".join(f"{name}={value}" for name, value in sorted(pairs))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def cached(version: str, key: str, compute: Callable[[], T]) -> T:
    """``compute()``'s result for ``key`` at ``version``, computed once per process and version."""
    full_key = f"opencdmo.network:{version}:{key}"
    value = cache.get(full_key)
    if value is None:
        value = compute()
        cache.set(full_key, value, TIMEOUT_S)
    return value


def connect_signals() -> None:
    """Bump the version on every save or delete of a network model or an organisation."""
    senders = [
        *apps.get_app_config("network").get_models(),
        apps.get_model("accounts", "Organisation"),
    ]
    for model in senders:
        post_save.connect(
            bump_network_version, sender=model, dispatch_uid=f"network-cache-{model._meta.label}"
        )
        post_delete.connect(
            bump_network_version,
            sender=model,
            dispatch_uid=f"network-cache-del-{model._meta.label}",
        )
