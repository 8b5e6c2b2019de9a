"""The audit trail is append-only and any tampering is named by ``audit verify``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django_scopes import scopes_disabled

from opencdmo.audit import services as audit
from opencdmo.audit.models import AppendOnlyError, AuditEntry


@contextmanager
def append_only_triggers_disabled() -> Iterator[Any]:
    """Let raw SQL through, as an attacker with database access could; rolled back after the test."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        else:
            cursor.execute("DROP TRIGGER audit_entry_no_update")
            cursor.execute("DROP TRIGGER audit_entry_no_delete")
        yield cursor


def _entries(org: Any, count: int) -> list[AuditEntry]:
    return [
        audit.record(
            "opencdmo.test.event", organisation_id=org.pk, after={"n": i}, reason=f"event {i}"
        )
        for i in range(count)
    ]


def _verify_fails_naming(entry_seq: int | None, capsys: Any) -> str:
    with pytest.raises(CommandError):
        call_command("audit", "verify")
    err = capsys.readouterr().err
    if entry_seq is not None:
        assert f"entry #{entry_seq} " in err
    return err


def test_intact_chain_verifies(world: Any, capsys: Any) -> None:
    """A chain written only through the service verifies cleanly."""
    _entries(world.orgs["alpha-bio"], 5)
    call_command("audit", "verify")
    assert "every chain intact" in capsys.readouterr().out
    assert audit.verify_all() == []


def test_numbers_that_the_database_rewrites_still_verify(world: Any) -> None:
    """Negative zero, huge and non-finite floats come back from the database as they hashed."""
    org = world.orgs["alpha-bio"]
    values = [-0.0, 0.1, 1e-07, 1e16, 2.5e20, -3e17, float("nan"), float("inf"), 12.0]
    audit.record(
        "opencdmo.test.event",
        organisation_id=org.pk,
        after={"values": values, "nested": {"zero": -0.0}},
        reason="numbers",
    )
    assert audit.verify_all() == []


def test_edited_entry_is_named(world: Any, capsys: Any) -> None:
    """Changing the reason of entry #3 with raw SQL is reported at #3 as edited."""
    org = world.orgs["beta-pharma"]
    entries = _entries(org, 5)
    chain = audit.chain_key(org.pk)
    target = entries[2]
    with append_only_triggers_disabled() as cursor:
        cursor.execute(
            "UPDATE audit_auditentry SET reason = %s WHERE id = %s", ["nothing", target.pk]
        )
    err = _verify_fails_naming(target.seq, capsys)
    assert chain in err
    assert "edited" in err


def test_deleted_entry_is_named(world: Any, capsys: Any) -> None:
    """Deleting an entry in the middle is reported where the gap starts."""
    org = world.orgs["beta-pharma"]
    entries = _entries(org, 5)
    with append_only_triggers_disabled() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [entries[1].pk])
    err = _verify_fails_naming(entries[2].seq, capsys)
    assert f"entry #{entries[1].seq} is missing" in err


def test_deleted_tail_is_detected(world: Any, capsys: Any) -> None:
    """Removing the newest entry is caught through the chain head."""
    entries = _entries(world.orgs["alpha-bio"], 3)
    with append_only_triggers_disabled() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [entries[-1].pk])
    err = _verify_fails_naming(None, capsys)
    assert "tail deleted" in err


def test_inserted_entry_is_named(world: Any, capsys: Any) -> None:
    """A forged row copied into the middle of the chain is named."""
    org = world.orgs["alpha-bio"]
    entries = _entries(org, 4)
    original = entries[1]
    with append_only_triggers_disabled() as cursor:
        cursor.execute(
            "UPDATE audit_auditentry SET seq = seq + 1000 WHERE chain = %s AND seq > %s",
            [original.chain, original.seq],
        )
        cursor.execute(
            "UPDATE audit_auditentry SET seq = seq - 999 WHERE chain = %s AND seq > 1000",
            [original.chain],
        )
        cursor.execute(
            "INSERT INTO audit_auditentry (chain, seq, organisation_id, at, actor_id, actor_name, action,"
            " object_type, object_id, object_repr, before, after, reason, request_id, ip, prev_hash, hash)"
            " SELECT chain, seq + 1, organisation_id, at, actor_id, 'mallory', action, object_type,"
            " object_id, object_repr, before, after, 'forged', request_id, ip, hash, %s"
            " FROM audit_auditentry WHERE id = %s",
            ["f" * 64, original.pk],
        )
    err = _verify_fails_naming(original.seq + 1, capsys)
    assert "edited" in err or "inserted" in err


def test_reordered_entries_are_named(world: Any, capsys: Any) -> None:
    """Swapping the positions of two entries is reported at the first moved one."""
    org = world.orgs["alpha-bio"]
    entries = _entries(org, 5)
    a, b = entries[1], entries[3]
    with append_only_triggers_disabled() as cursor:
        cursor.execute("UPDATE audit_auditentry SET seq = 0 WHERE id = %s", [a.pk])
        cursor.execute("UPDATE audit_auditentry SET seq = %s WHERE id = %s", [a.seq, b.pk])
        cursor.execute("UPDATE audit_auditentry SET seq = %s WHERE id = %s", [b.seq, a.pk])
    err = _verify_fails_naming(a.seq, capsys)
    assert audit.chain_key(org.pk) in err


def test_other_chains_stay_valid_when_one_breaks(world: Any) -> None:
    """Chains are per tenant: tampering with one names only that one."""
    alpha = _entries(world.orgs["alpha-bio"], 2)
    _entries(world.orgs["beta-pharma"], 2)
    with append_only_triggers_disabled() as cursor:
        cursor.execute("UPDATE audit_auditentry SET reason = 'x' WHERE id = %s", [alpha[0].pk])
    breaks = audit.verify_all()
    assert [b.chain for b in breaks] == [audit.chain_key(world.orgs["alpha-bio"].pk)]


def test_database_refuses_update_and_delete(world: Any) -> None:
    """Raw UPDATE and DELETE are rejected by a trigger, not only by the model."""
    entry = _entries(world.orgs["alpha-bio"], 1)[0]
    for sql in (
        "UPDATE audit_auditentry SET reason = 'x' WHERE id = %s",
        "DELETE FROM audit_auditentry WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            connection.cursor().execute(sql, [entry.pk])
    with scopes_disabled():
        assert AuditEntry.objects.get(pk=entry.pk).reason == "event 0"


def test_model_refuses_update_and_delete(world: Any) -> None:
    """The ORM cannot change or delete an entry either."""
    entry = _entries(world.orgs["alpha-bio"], 1)[0]
    entry.reason = "changed"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()


def test_entry_rolls_back_with_its_change(world: Any) -> None:
    """An entry is written in the caller's transaction and disappears with it."""
    org = world.orgs["alpha-bio"]
    with scopes_disabled():
        before = AuditEntry.objects.count()

    def change_that_fails() -> None:
        with transaction.atomic():
            audit.record("opencdmo.test.event", organisation_id=org.pk, reason="doomed")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        change_that_fails()
    with scopes_disabled():
        assert AuditEntry.objects.count() == before
    assert audit.verify_all() == []


def test_queries_outside_a_scope_raise(world: Any) -> None:
    """Forgetting the tenant scope is an error, not a leak."""
    from django_scopes.exceptions import ScopeError

    with pytest.raises(ScopeError):
        list(AuditEntry.objects.all())


def test_shared_entry_is_read_by_both_organisations_and_no_one_else(world: Any) -> None:
    """An entry in the CDMO's chain naming the sponsor shows in both scopes, not a third's."""
    from opencdmo.core.tenancy import caller_scope

    cdmo, sponsor = world.orgs["alpha-bio"], world.orgs["sponsor-one"]
    entry = audit.record(
        "opencdmo.test.shared", organisation_id=cdmo.pk, shared_with_id=sponsor.pk, reason="x"
    )
    private = audit.record("opencdmo.test.private", organisation_id=cdmo.pk, reason="x")
    with caller_scope(world.user("sponsor-one", "sponsor_qa")):
        assert list(AuditEntry.objects.values_list("pk", flat=True)) == [entry.pk]
    with caller_scope(world.user("alpha-bio", "cdmo_qa")):
        assert set(AuditEntry.objects.values_list("pk", flat=True)) == {entry.pk, private.pk}
    for other in ("beta-pharma/cdmo_qa", "sponsor-two/sponsor_qa"):
        with caller_scope(world.users[other]):
            assert not AuditEntry.objects.exists()
    assert entry.chain == audit.chain_key(cdmo.pk)


def test_shared_with_is_covered_by_the_hash(world: Any, capsys: Any) -> None:
    """Pointing a shared entry at another organisation breaks the chain at that entry."""
    entry = audit.record(
        "opencdmo.test.shared",
        organisation_id=world.orgs["alpha-bio"].pk,
        shared_with_id=world.orgs["sponsor-one"].pk,
    )
    with append_only_triggers_disabled() as cursor:
        cursor.execute(
            "UPDATE audit_auditentry SET shared_with_id = %s WHERE id = %s",
            [world.orgs["sponsor-two"].pk, entry.pk],
        )
    assert "content does not match its hash" in _verify_fails_naming(entry.seq, capsys)


def test_entries_without_a_sharer_keep_the_hash_they_were_written_with() -> None:
    """Entries written before ``shared_with`` existed still verify: the hashed content of an
    entry without a sharer is exactly the sixteen fields it was written with."""
    import datetime as dt
    import hashlib
    import json

    at = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    entry = AuditEntry(
        chain="org:7",
        seq=3,
        organisation_id=7,
        at=at,
        actor_id=None,
        actor_name="",
        action="opencdmo.suite.changed",
        object_type="network.suite",
        object_id="5",
        object_repr="USP 1",
        before={"a": 1},
        after={"a": 2},
        reason="why",
        request_id="r",
        ip="127.0.0.1",
        prev_hash="0" * 64,
    )
    written = {
        "chain": "org:7",
        "seq": 3,
        "organisation": 7,
        "at": "2026-01-02T03:04:05.000000+00:00",
        "actor": None,
        "actor_name": "",
        "action": "opencdmo.suite.changed",
        "object_type": "network.suite",
        "object_id": "5",
        "object_repr": "USP 1",
        "before": {"a": 1},
        "after": {"a": 2},
        "reason": "why",
        "request_id": "r",
        "ip": "127.0.0.1",
        "prev_hash": "0" * 64,
    }
    encoded = json.dumps(written, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert audit.entry_hash(entry) == hashlib.sha256(encoded.encode()).hexdigest()
    entry.shared_with_id = 9
    assert audit.entry_hash(entry) != hashlib.sha256(encoded.encode()).hexdigest()
