"""Parallel writers to one tenant's chain never fork it (PostgreSQL row locks on the chain head)."""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest
from django.db import connection, connections
from django_scopes import scopes_disabled

from opencdmo.accounts.models import Organisation
from opencdmo.audit import services as audit
from opencdmo.audit.models import AuditEntry

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="needs concurrent connections to one database: runs in the PostgreSQL pass",
)

WRITERS = 6
EACH = 15


def test_parallel_writers_keep_one_unbroken_chain(transactional_db: Any) -> None:
    """Six threads appending at once give 90 entries numbered 1..90 that verify."""
    assert connection.vendor == "postgresql"
    org = Organisation.objects.create(name="Parallel", slug="parallel", kind="cdmo")
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def write(writer: int) -> None:
        try:
            start.wait()
            for n in range(EACH):
                audit.record(
                    "opencdmo.test.parallel", organisation_id=org.pk, after={"w": writer, "n": n}
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with scopes_disabled():
        seqs = list(
            AuditEntry.objects.filter(organisation=org)
            .order_by("seq")
            .values_list("seq", flat=True)
        )
    assert seqs == list(range(1, WRITERS * EACH + 1))
    assert audit.verify_chain(audit.chain_key(org.pk)) is None
