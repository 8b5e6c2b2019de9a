"""The page's chain check gives the verdict ``opencdmo audit verify`` gives, and is audited."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_scopes import scopes_disabled

from opencdmo.audit import services as audit
from opencdmo.audit.models import AuditEntry
from tests.audit.test_chain import append_only_triggers_disabled

NOT_ANCHORED = (
    "Not anchored: no signed checkpoint to compare with (run 'opencdmo audit checkpoint')."
)


def _command_lines(capsys: Any) -> list[str]:
    """What ``opencdmo audit verify`` prints, on either stream, one line per item."""
    try:
        call_command("audit", "verify")
    except CommandError as exc:
        captured = capsys.readouterr()
        return [*captured.err.splitlines(), str(exc)]
    return capsys.readouterr().out.splitlines()


def _page_lines(client: Any) -> tuple[list[str], Any]:
    response = client.post("/audit/verify/", follow=True)
    assert response.status_code == 200
    check = response.context["check"]
    assert check is not None
    return check["lines"], response


def _entries(org: Any, count: int) -> list[AuditEntry]:
    return [
        audit.record("opencdmo.test.event", organisation_id=org.pk, after={"n": i}, reason=str(i))
        for i in range(count)
    ]


def test_intact_chain_reads_as_the_command_says(world: Any, client_for: Any, capsys: Any) -> None:
    """OK with the entry count, word for word as the command prints it."""
    client = client_for(world.user("alpha-bio", "cdmo_qa"))
    _entries(world.orgs["alpha-bio"], 4)
    expected = _command_lines(capsys)
    lines, response = _page_lines(client)
    assert lines == expected == [f"OK: 5 audit entries, every chain intact. {NOT_ANCHORED}"]
    assert b"OK: 5 audit entries, every chain intact." in response.content
    assert b'data-testid="chain-check"' in response.content


def test_tampered_chain_names_the_same_entry(world: Any, client_for: Any, capsys: Any) -> None:
    """An entry edited with raw SQL is named by the page exactly as by the command."""
    org = world.orgs["alpha-bio"]
    client = client_for(world.user("alpha-bio", "cdmo_admin"))
    target = _entries(org, 5)[2]
    with append_only_triggers_disabled() as cursor:
        cursor.execute(
            "UPDATE audit_auditentry SET reason = %s WHERE id = %s", ["nothing", target.pk]
        )
    expected = _command_lines(capsys)
    lines, response = _page_lines(client)
    assert lines == expected
    assert lines[0] == (
        f"BROKEN {audit.chain_key(org.pk)}: entry #{target.seq} (id {target.pk}): "
        "content does not match its hash (edited)"
    )
    assert b"Chain broken" in response.content


def test_sign_ins_have_a_chain_of_their_own_that_the_page_verifies(
    world: Any, client_for: Any, capsys: Any
) -> None:
    """A login goes to the organisation's access chain, not to its records' chain (so it
    never waits for a long write there); an edited login entry breaks the tenant's verdict."""
    org = world.orgs["alpha-bio"]
    qa = world.user("alpha-bio", "cdmo_qa")
    client = client_for(qa)
    with scopes_disabled():
        login = AuditEntry.objects.get(action="opencdmo.user.logged_in", actor=qa)
    access = audit.chain_key(org.pk, "opencdmo.user.logged_in")
    assert (login.chain, login.seq) == (access, 1)
    assert access == f"{audit.chain_key(org.pk)}:access"
    assert audit.chains_of(org.pk) == (audit.chain_key(org.pk), access)
    with append_only_triggers_disabled() as cursor:
        cursor.execute("UPDATE audit_auditentry SET ip = %s WHERE id = %s", ["10.9.9.9", login.pk])
    expected = _command_lines(capsys)
    lines, _ = _page_lines(client)
    assert lines == expected
    assert lines[0] == (
        f"BROKEN {access}: entry #1 (id {login.pk}): content does not match its hash (edited)"
    )


def test_each_organisation_checks_its_own_chain(world: Any, client_for: Any) -> None:
    """A break in Beta's chain does not show on Alpha's page; the platform admin sees it."""
    alpha = client_for(world.user("alpha-bio", "cdmo_qa"))
    platform = client_for(world.user("platform", "platform_admin"))
    _entries(world.orgs["alpha-bio"], 2)
    beta = _entries(world.orgs["beta-pharma"], 2)
    with append_only_triggers_disabled() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [beta[-1].pk])
    alpha_lines, _ = _page_lines(alpha)
    assert alpha_lines == [f"OK: 3 audit entries, every chain intact. {NOT_ANCHORED}"]
    platform_lines, _ = _page_lines(platform)
    assert platform_lines[0].startswith(f"BROKEN {audit.chain_key(world.orgs['beta-pharma'].pk)}")
    assert "tail deleted" in platform_lines[0]


def test_the_check_is_audited(world: Any, client_for: Any) -> None:
    """Running the check writes an 'Audit chain verified' entry with its verdict on the chain."""
    qa = world.user("sponsor-one", "sponsor_qa")
    _page_lines(client_for(qa))
    with scopes_disabled():
        entry = AuditEntry.objects.get(action="opencdmo.audit_chain.verified")
    assert entry.organisation_id == qa.organisation_id
    assert entry.actor_id == qa.pk
    assert entry.after["intact"] is True
    assert entry.reason.startswith("OK: ")
    assert audit.verify_all() == []


@pytest.mark.parametrize(
    ("org", "role"), [("alpha-bio", "cdmo_planner"), ("sponsor-one", "sponsor_manager")]
)
def test_other_roles_cannot_run_the_check(world: Any, client_for: Any, org: str, role: str) -> None:
    """Without the audit permission the check is refused and records nothing."""
    assert client_for(world.user(org, role)).post("/audit/verify/").status_code == 403
    with scopes_disabled():
        assert not AuditEntry.objects.filter(action="opencdmo.audit_chain.verified").exists()


def test_the_check_is_a_post(world: Any, client_for: Any) -> None:
    """A link or prefetch cannot run it: GET is refused."""
    assert client_for(world.user("alpha-bio", "cdmo_qa")).get("/audit/verify/").status_code == 405


def test_a_tenant_verdict_names_no_server_path(
    world: Any, client_for: Any, settings: Any, tmp_path: Any, monkeypatch: Any
) -> None:
    """A forged checkpoint shows to the organisation's QA by line, without the file's path.

    The platform administrator's verdict, like the command's, names the file.
    """
    from opencdmo.audit import anchors, keys

    monkeypatch.delenv(keys.KEY_ENV, raising=False)
    settings.AUDIT_KEY_FILE = tmp_path / "secret-place" / "audit-signing.key"
    settings.AUDIT_CHECKPOINTS = tmp_path / "secret-place" / "audit-checkpoints.jsonl"
    org = world.orgs["alpha-bio"]
    _entries(org, 2)
    anchors.write_checkpoints([audit.chain_key(org.pk)])
    path = keys.checkpoints_file()
    line = json.loads(path.read_text())
    line["hash"] = "a" * 64
    keys.append_line(path, json.dumps(line))
    lines, response = _page_lines(client_for(world.user("alpha-bio", "cdmo_qa")))
    assert lines[0] == (
        f"BROKEN {audit.chain_key(org.pk)}: the checkpoint file, line 2: signature does not "
        "verify (forged or altered checkpoint)"
    )
    assert str(tmp_path) not in response.content.decode()
    with scopes_disabled():
        recorded = AuditEntry.objects.filter(action="opencdmo.audit_chain.verified").get()
    assert str(tmp_path) not in recorded.reason
    platform_lines, _ = _page_lines(client_for(world.user("platform", "platform_admin")))
    assert f"{path}, line 2: signature does not verify" in platform_lines[0]


def test_an_unreadable_key_file_is_not_named_to_a_tenant(
    world: Any, client_for: Any, settings: Any, tmp_path: Any, monkeypatch: Any
) -> None:
    """A broken public-keys file breaks the tenant's verdict in words, naming no path."""
    from opencdmo.audit import anchors, keys

    monkeypatch.delenv(keys.KEY_ENV, raising=False)
    settings.AUDIT_KEY_FILE = tmp_path / "secret-place" / "audit-signing.key"
    settings.AUDIT_CHECKPOINTS = tmp_path / "secret-place" / "audit-checkpoints.jsonl"
    _entries(world.orgs["alpha-bio"], 1)
    anchors.write_checkpoints()
    keys.append_line(keys.public_keys_file(), "not json")
    lines, response = _page_lines(client_for(world.user("alpha-bio", "cdmo_admin")))
    assert str(tmp_path) not in "\n".join(lines)
    assert "public-keys file" in lines[0]
    assert str(tmp_path) not in response.content.decode()
