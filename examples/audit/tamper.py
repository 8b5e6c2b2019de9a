"""Edit one audit entry directly in an SQLite database, as an attacker with the file would.

    python tamper.py var/opencdmo.sqlite3 SEQ [CHAIN]

Shows what `opencdmo audit verify` detects: the database's guard (triggers refusing UPDATE
and DELETE) is dropped, the entry's object name is changed, and the guard is put back, so
only the hash chain can tell. Use it on a copy or a test database, never on real records.
"""

from __future__ import annotations

import sqlite3
import sys


def tamper(path: str, seq: int, chain: str = "org:1") -> None:
    database = sqlite3.connect(path)
    with database:
        guards = database.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?",
            ("audit_auditentry",),
        ).fetchall()
        for name, _ in guards:
            database.execute(f'DROP TRIGGER "{name}"')
        changed = database.execute(
            "UPDATE audit_auditentry SET object_repr = object_repr || ' (renamed)' "
            "WHERE chain = ? AND seq = ?",
            (chain, seq),
        ).rowcount
        for _, sql in guards:
            database.execute(sql)
    database.close()
    if not changed:
        raise SystemExit(f"No entry #{seq} in chain {chain}.")
    print(f"Changed entry #{seq} of {chain} behind opencdmo's back.")


if __name__ == "__main__":
    tamper(sys.argv[1], int(sys.argv[2]), *sys.argv[3:4])
