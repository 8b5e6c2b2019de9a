"""Signed checkpoints and partner witnesses catch what a database writer can hide from the hashes.

Each attack here recomputes the chain's hashes and head with the project's own ``entry_hash``,
so the hash chain alone verifies; only the anchors outside the database can tell.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_scopes import scopes_disabled

from opencdmo.audit import anchors, keys
from opencdmo.audit import services as audit
from opencdmo.audit.labels import CHAIN_WITNESSED, KEY_ROTATED
from opencdmo.audit.models import AuditEntry
from opencdmo.audit.verification import check_all_chains
from tests.audit.test_chain import append_only_triggers_disabled


@pytest.fixture(autouse=True)
def anchor_files(settings: Any, tmp_path: Path, monkeypatch: Any) -> Path:
    """Each test gets its own key file and checkpoint file; no key in the environment."""
    monkeypatch.delenv(keys.KEY_ENV, raising=False)
    settings.AUDIT_KEY_FILE = tmp_path / "key" / "audit-signing.key"
    settings.AUDIT_CHECKPOINTS = tmp_path / "anchors" / "audit-checkpoints.jsonl"
    return tmp_path


def _entries(org: Any, count: int) -> list[AuditEntry]:
    return [
        audit.record("opencdmo.test.event", organisation_id=org.pk, after={"n": i}, reason=f"e{i}")
        for i in range(count)
    ]


def _rehash_from(cursor: Any, chain: str, seq: int) -> None:
    """Recompute every hash from ``seq`` on and the chain head, as the attacker would."""
    with scopes_disabled():
        previous = AuditEntry.objects.filter(chain=chain, seq=seq - 1).first()
        prev_hash = previous.hash if previous is not None else audit.GENESIS_HASH
        last_seq = seq - 1
        for entry in AuditEntry.objects.filter(chain=chain, seq__gte=seq).order_by("seq"):
            entry.prev_hash = prev_hash
            prev_hash = audit.entry_hash(entry)
            cursor.execute(
                "UPDATE audit_auditentry SET prev_hash = %s, hash = %s WHERE id = %s",
                [entry.prev_hash, prev_hash, entry.pk],
            )
            last_seq = entry.seq
    cursor.execute(
        "UPDATE audit_chainhead SET last_seq = %s, last_hash = %s WHERE chain = %s",
        [last_seq, prev_hash, chain],
    )


def _verify_errors(capsys: Any) -> str:
    with pytest.raises(CommandError):
        call_command("audit", "verify")
    return capsys.readouterr().err


def test_rewrite_with_recomputed_hashes_is_caught_by_a_checkpoint(world: Any, capsys: Any) -> None:
    """Editing #2's reason and recomputing every later hash and the head fails at #2's checkpoint."""
    org = world.orgs["beta-pharma"]
    entries = _entries(org, 5)
    chain = audit.chain_key(org.pk)
    call_command("audit", "checkpoint")
    capsys.readouterr()
    with append_only_triggers_disabled() as cursor:
        cursor.execute(
            "UPDATE audit_auditentry SET reason = %s WHERE id = %s", ["nothing", entries[1].pk]
        )
        _rehash_from(cursor, chain, entries[1].seq)
    assert audit.verify_all() == []
    err = _verify_errors(capsys)
    assert f"BROKEN {chain}: entry #{entries[-1].seq}: hash differs from the checkpoint" in err
    assert "history rewritten" in err


def test_truncation_with_a_fixed_head_is_caught(world: Any, capsys: Any) -> None:
    """Deleting the newest entries and setting the head back leaves fewer than checkpointed."""
    org = world.orgs["alpha-bio"]
    entries = _entries(org, 4)
    chain = audit.chain_key(org.pk)
    anchors.write_checkpoints()
    with append_only_triggers_disabled() as cursor:
        cursor.execute(
            "DELETE FROM audit_auditentry WHERE chain = %s AND seq > %s", [chain, entries[1].seq]
        )
        _rehash_from(cursor, chain, entries[1].seq + 1)
    assert audit.verify_all() == []
    err = _verify_errors(capsys)
    assert f"{chain}: entry #{entries[-1].seq}: missing" in err
    assert f"now ends at #{entries[1].seq} (truncated)" in err


def test_deleting_a_whole_chain_and_its_head_is_caught(world: Any, capsys: Any) -> None:
    """An organisation's entries and head removed together: the checkpointed chain is missing."""
    org = world.orgs["alpha-bio"]
    _entries(org, 3)
    _entries(world.orgs["beta-pharma"], 2)
    chain = audit.chain_key(org.pk)
    anchors.write_checkpoints()
    with append_only_triggers_disabled() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE chain = %s", [chain])
        cursor.execute("DELETE FROM audit_chainhead WHERE chain = %s", [chain])
    assert audit.verify_all() == []
    err = _verify_errors(capsys)
    assert f"BROKEN {chain}: chain missing" in err
    assert "chain deleted" in err
    assert audit.chain_key(world.orgs["beta-pharma"].pk) not in err


def test_a_forged_checkpoint_line_is_caught(world: Any, capsys: Any) -> None:
    """A line whose hash was changed after signing fails its signature, naming file and line."""
    _entries(world.orgs["alpha-bio"], 2)
    anchors.write_checkpoints()
    path = keys.checkpoints_file()
    lines = path.read_text().splitlines()
    forged = json.loads(lines[-1])
    forged["hash"] = "a" * 64
    path.write_text("\n".join([*lines, json.dumps(forged)]) + "\n")
    err = _verify_errors(capsys)
    assert f"{path}, line {len(lines) + 1}: signature does not verify" in err


def test_a_checkpoint_signed_by_an_unknown_key_is_caught(
    world: Any, settings: Any, tmp_path: Path
) -> None:
    """A checkpoint made with a key the operator never had is rejected."""
    _entries(world.orgs["alpha-bio"], 2)
    anchors.write_checkpoints()
    ours = settings.AUDIT_KEY_FILE, settings.AUDIT_CHECKPOINTS
    settings.AUDIT_KEY_FILE = tmp_path / "attacker" / "audit-signing.key"
    settings.AUDIT_CHECKPOINTS = tmp_path / "attacker" / "audit-checkpoints.jsonl"
    anchors.write_checkpoints()
    forged = keys.checkpoints_file().read_text().strip()
    settings.AUDIT_KEY_FILE, settings.AUDIT_CHECKPOINTS = ours
    keys.append_line(keys.checkpoints_file(), forged)
    check = check_all_chains()
    assert [str(b) for b in check.breaks] == [
        f"{audit.chain_key(world.orgs['alpha-bio'].pk)}: {keys.checkpoints_file()}, line 2: "
        f"signed by unknown key {json.loads(forged)['key_id']}"
    ]


def test_intact_anchored_chains_verify(world: Any, capsys: Any) -> None:
    """With checkpoints and no tampering the verdict is OK and says how many anchor it."""
    _entries(world.orgs["alpha-bio"], 3)
    call_command("audit", "checkpoint")
    out = capsys.readouterr().out
    assert f"{keys.checkpoints_file()}: 1 signed checkpoint(s) appended." in out
    call_command("audit", "verify")
    assert "every chain intact. Anchored by 1 signed checkpoint(s)." in capsys.readouterr().out


def test_without_checkpoints_the_verdict_says_not_anchored(world: Any, capsys: Any) -> None:
    """No checkpoint file: the chain verifies but the verdict says it is not anchored."""
    _entries(world.orgs["alpha-bio"], 2)
    call_command("audit", "verify")
    assert "Not anchored" in capsys.readouterr().out


def test_key_file_is_created_private_and_kept(world: Any, capsys: Any) -> None:
    """``audit keygen`` creates a 0600 key once; a second run leaves it as it is."""
    call_command("audit", "keygen")
    path = keys.key_file()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    first = path.read_bytes()
    call_command("audit", "keygen")
    assert path.read_bytes() == first
    assert "left as it is" in capsys.readouterr().out


def test_migrate_creates_the_key_file_when_missing(world: Any) -> None:
    """``opencdmo migrate`` (and so ``opencdmo demo``) leaves a 0600 signing key behind."""
    assert not keys.key_file().exists()
    call_command("migrate", verbosity=0)
    assert stat.S_IMODE(os.stat(keys.key_file()).st_mode) == 0o600
    assert keys.known_public_keys().keys() == {keys.key_id(keys.signing_key().public_key())}


def test_key_from_the_environment_signs_and_is_not_written(
    world: Any, monkeypatch: Any, capsys: Any
) -> None:
    """``OPENCDMO_AUDIT_KEY`` signs the checkpoints; no key file appears and rotation refuses."""
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    raw = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    monkeypatch.setenv(keys.KEY_ENV, base64.b64encode(raw).decode())
    _entries(world.orgs["alpha-bio"], 2)
    anchors.write_checkpoints()
    assert not keys.key_file().exists()
    assert check_all_chains().anchored
    with pytest.raises(CommandError, match=keys.KEY_ENV):
        call_command("audit", "rotate-key", "--by", "ops")


def test_a_bad_key_in_the_environment_is_named(world: Any, monkeypatch: Any) -> None:
    """A malformed environment key stops with the variable's name, writing nothing."""
    monkeypatch.setenv(keys.KEY_ENV, "not-a-key")
    with pytest.raises(CommandError, match=keys.KEY_ENV):
        call_command("audit", "checkpoint")
    assert not keys.checkpoints_file().exists()


def test_key_rotation_keeps_old_checkpoints_verifiable(world: Any, capsys: Any) -> None:
    """After rotation, checkpoints of the old key still verify and catch a rewrite."""
    org = world.orgs["alpha-bio"]
    entries = _entries(org, 3)
    chain = audit.chain_key(org.pk)
    call_command("audit", "keygen")
    old_id = keys.key_id(keys.signing_key().public_key())
    anchors.write_checkpoints([chain])
    call_command("audit", "rotate-key", "--by", "security officer", "--reason", "yearly")
    assert keys.key_id(keys.signing_key().public_key()) != old_id
    with scopes_disabled():
        rotation = AuditEntry.objects.get(action=KEY_ROTATED)
    assert rotation.after["old_key_id"] == old_id
    assert rotation.actor_name == "security officer"
    assert rotation.chain == audit.PLATFORM_CHAIN
    check = check_all_chains()
    assert check.intact, check.lines()
    assert check.checkpoints == 3
    with append_only_triggers_disabled() as cursor:
        cursor.execute("UPDATE audit_auditentry SET reason = 'x' WHERE id = %s", [entries[0].pk])
        _rehash_from(cursor, chain, entries[0].seq)
    assert audit.verify_all() == []
    err = _verify_errors(capsys)
    assert f"BROKEN {chain}: entry #{entries[-1].seq}: hash differs" in err


def test_a_forged_key_rotation_is_caught(world: Any) -> None:
    """A rotation entry whose new key was swapped no longer carries the old key's signature."""
    call_command("audit", "keygen")
    entry = anchors.rotate_key(by="ops")
    forged = dict(entry.after or {})
    forged["new_key_id"] = "0" * 16
    with append_only_triggers_disabled() as cursor:
        cursor.execute(
            "UPDATE audit_auditentry SET after = %s WHERE id = %s", [json.dumps(forged), entry.pk]
        )
        _rehash_from(cursor, entry.chain, entry.seq)
    assert [str(b) for b in anchors.verify_rotations()] == [
        f"platform: entry #{entry.seq} (id {entry.pk}): key rotation not signed by the old key "
        "(forged)"
    ]


def _share(world: Any) -> tuple[Any, Any]:
    cdmo, sponsor = world.orgs["alpha-bio"], world.orgs["sponsor-one"]
    audit.record("opencdmo.test.shared", organisation_id=cdmo.pk, shared_with_id=sponsor.pk)
    _entries(sponsor, 3)
    return cdmo, sponsor


def test_partners_witness_each_others_heads(world: Any) -> None:
    """Sharing organisations witness each other's heads; only a head moved by news is witnessed again."""
    cdmo, sponsor = _share(world)
    written = anchors.record_witnesses()
    assert sorted(w.chain for w in written) == sorted(
        [audit.chain_key(cdmo.pk), audit.chain_key(sponsor.pk)]
    )
    by_cdmo = next(w for w in written if w.chain == audit.chain_key(cdmo.pk))
    assert by_cdmo.action == CHAIN_WITNESSED
    assert by_cdmo.reason.startswith(f"Witnessed {sponsor.name}'s chain at seq 3, hash ")
    assert anchors.record_witnesses() == []
    assert check_all_chains().intact
    _entries(sponsor, 1)
    assert [w.chain for w in anchors.record_witnesses()] == [audit.chain_key(cdmo.pk)]


def test_witness_mismatch_is_caught(world: Any, capsys: Any) -> None:
    """The sponsor rewrites its chain alone (no checkpoints): the CDMO's witness disagrees."""
    cdmo, sponsor = _share(world)
    with scopes_disabled():
        first = AuditEntry.objects.get(chain=audit.chain_key(sponsor.pk), seq=1)
    anchors.record_witnesses()
    sponsor_chain = audit.chain_key(sponsor.pk)
    with append_only_triggers_disabled() as cursor:
        cursor.execute("UPDATE audit_auditentry SET reason = 'x' WHERE id = %s", [first.pk])
        _rehash_from(cursor, sponsor_chain, 1)
    assert audit.verify_all() == []
    err = _verify_errors(capsys)
    assert (
        f"BROKEN {sponsor_chain}: entry #3: hash differs from the witness in "
        f"{audit.chain_key(cdmo.pk)}'s entry #"
    ) in err


def test_periodic_checkpoint_is_written_after_commit(
    world: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Every N-th entry of a chain appends a checkpoint of that chain once its transaction commits."""
    settings.AUDIT_CHECKPOINT_EVERY = 3
    org = world.orgs["alpha-bio"]
    with django_capture_on_commit_callbacks(execute=True):
        _entries(org, 3)
    lines = keys.checkpoints_file().read_text().splitlines()
    assert [(json.loads(line)["chain"], json.loads(line)["seq"]) for line in lines] == [
        (audit.chain_key(org.pk), 3)
    ]


def test_a_witness_is_shared_with_the_witnessed_partner(world: Any, client_for: Any) -> None:
    """The sponsor reads the CDMO's witness of its chain on its own audit page; all verifies."""
    cdmo, sponsor = _share(world)
    written = anchors.record_witnesses()
    by_cdmo = next(w for w in written if w.chain == audit.chain_key(cdmo.pk))
    assert by_cdmo.shared_with_id == sponsor.pk
    sponsor_qa = client_for(world.user("sponsor-one", "sponsor_qa"))
    page = sponsor_qa.get("/audit/", {"action": CHAIN_WITNESSED})
    assert by_cdmo.pk in [entry.pk for entry in page.context["page"]]
    verdict = sponsor_qa.post("/audit/verify/", follow=True).context["check"]
    assert verdict["intact"], verdict["lines"]
    assert check_all_chains().intact
    assert audit.verify_all() == []
