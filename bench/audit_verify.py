"""Time and peak memory of ``opencdmo audit verify`` on large audit trails (not a test).

For each size, a throw-away SQLite data folder is migrated, filled with that many entries
spread over ten organisations' chains (bulk inserts, hashes computed with the project's own
``entry_hash``, heads set), checkpointed with ``opencdmo audit checkpoint``, and then
``opencdmo audit verify`` runs as its own process: wall time and that process's peak resident
memory are printed. A flat peak across sizes shows verification streams the chains.

    .venv/bin/python bench/audit_verify.py [--sizes 100000 1000000] [--chains 10]

Measured in December on a shared two-core machine (SQLite): 100,000 entries verified in 56 s
with a 103 MiB peak, 1,000,000 in 106 s (9,400 entries/s) with a 216 MiB peak; the Python
heap holds one chunk of 2,000 entries throughout (about 2.5 MiB traced at entry 150,000 of a
200,000-entry chain), the rest of the growth is outside it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OPENCDMO = str(ROOT / ".venv" / "bin" / "opencdmo")
BATCH = 5000


def _run(args: list[str], environ: dict[str, str], folder: Path) -> tuple[float, float, str]:
    """Wall seconds, peak resident MiB and stdout of one ``opencdmo`` command, run alone."""
    out_path, err_path = folder / "bench.out", folder / "bench.err"
    with out_path.open("w") as out, err_path.open("w") as err:
        started = time.perf_counter()
        process = subprocess.Popen([OPENCDMO, *args], env=environ, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall_s = time.perf_counter() - started
    if status:
        sys.exit(f"opencdmo {' '.join(args)} failed:\n{err_path.read_text()}")
    return wall_s, usage.ru_maxrss / 1024, out_path.read_text()


def _fill(entries: int, chains: int) -> float:
    """Insert ``entries`` hash-chained entries over ``chains`` organisations; seconds taken."""
    import django

    django.setup()
    from django.db import transaction
    from django_scopes import scopes_disabled

    from opencdmo.accounts.models import Organisation
    from opencdmo.audit.models import AuditEntry, ChainHead
    from opencdmo.audit.services import GENESIS_HASH, chain_key, entry_hash

    started = time.perf_counter()
    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with scopes_disabled(), transaction.atomic():
        organisations = [
            Organisation.objects.create(name=f"Bench {i}", slug=f"bench-{i}", kind="cdmo")
            for i in range(chains)
        ]
        per_chain = entries // chains
        for organisation in organisations:
            chain, prev_hash, pending = chain_key(organisation.pk), GENESIS_HASH, []
            for seq in range(1, per_chain + 1):
                entry = AuditEntry(
                    chain=chain,
                    seq=seq,
                    organisation_id=organisation.pk,
                    at=at + dt.timedelta(seconds=seq),
                    actor_name="bench",
                    action="opencdmo.suite.changed",
                    object_type="network.suite",
                    object_id=str(seq % 50),
                    object_repr=f"Suite {seq % 50}",
                    before={"gmp_grade": "C"},
                    after={"gmp_grade": "B"},
                    reason=f"Requalified after change control CC-{seq}",
                    prev_hash=prev_hash,
                )
                entry.hash = prev_hash = entry_hash(entry)
                pending.append(entry)
                if len(pending) == BATCH:
                    AuditEntry.objects.bulk_create(pending)
                    pending = []
            AuditEntry.objects.bulk_create(pending)
            ChainHead.objects.create(chain=chain, last_seq=per_chain, last_hash=prev_hash)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--chains", type=int, default=10)
    options = parser.parse_args()
    print(f"{'entries':>10} {'fill s':>8} {'verify s':>9} {'entries/s':>10} {'peak MiB':>9}")
    for size in options.sizes:
        folder = Path(tempfile.mkdtemp(prefix="opencdmo-audit-bench."))
        environ = {
            **os.environ,
            "OPENCDMO_DATA_DIR": str(folder),
            "DJANGO_SETTINGS_MODULE": "opencdmo.settings",
        }
        environ.pop("DATABASE_URL", None)
        environ.pop("OPENCDMO_AUDIT_KEY", None)
        try:
            _run(["migrate", "--verbosity", "0"], environ, folder)
            fill = subprocess.run(
                [sys.executable, __file__, "--fill-only", str(size), str(options.chains)],
                env=environ,
                capture_output=True,
                text=True,
                check=True,
            )
            fill_s = float(fill.stdout.strip())
            _run(["audit", "checkpoint"], environ, folder)
            verify_s, peak_mib, out = _run(["audit", "verify"], environ, folder)
            assert out.startswith(f"OK: {size} audit entries"), out
            rate = size / verify_s
            print(f"{size:>10} {fill_s:>8.1f} {verify_s:>9.1f} {rate:>10.0f} {peak_mib:>9.0f}")
        finally:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--fill-only":
        print(f"{_fill(int(sys.argv[2]), int(sys.argv[3])):.1f}")
    else:
        main()
