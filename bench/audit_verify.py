"""Time and peak memory of ``opencdmo audit verify`` on large audit trails (not a test).

For each size, a throw-away SQLite data folder is migrated, filled with that many entries
spread over ten organisations' chains (bulk inserts, hashes computed with the project's own
``entry_hash``, heads set), checkpointed with ``opencdmo audit checkpoint``, and then
``opencdmo audit verify`` runs as its own process: wall time and that process's peak resident
memory are printed. A flat peak across sizes shows verification streams the chains.

With ``--signatures N``, N of those entries (spread over the chains) record a QA approval of
one deviation each, made in bulk beside a project per organisation shared with one sponsor,
and a ``quality.Signature`` row binds each to its deviation's canonical content and hash
(``quality.signing``), so verify's signature check reads every one of them against its
record. All records are unchanged since signing: the common case, where each signature costs
its record's read and two content hashes.

    .venv/bin/python bench/audit_verify.py [--sizes 100000 1000000] [--chains 10] \\
        [--signatures 100000]

Measured in December on a shared two-core machine (SQLite): 100,000 entries verified in 56 s
with a 103 MiB peak, 1,000,000 in 106 s (9,400 entries/s) with a 216 MiB peak; the Python
heap holds one chunk of 2,000 entries throughout (about 2.5 MiB traced at entry 150,000 of a
200,000-entry chain), the rest of the growth is outside it. 1,000,000 entries with 100,000
signatures among them (run once, with a load average of 7 on the two cores): filled in
460 s, verified in 124 s (8,050 entries/s) with a 376 MiB peak. The signature check alone
over 100,000 signatures takes 15 s in 201 queries with its process at a 180 MiB peak (162 MiB
before it); reading each signature's record on its own, as it did before, took 182 s (both
measured in-process with the query log on) and about 100,000 queries with a 408 MiB peak,
all signatures held at once.
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
from typing import Any

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


def _deviations(organisation: Any, sponsor: Any, count: int) -> list[Any]:
    """``count`` deviations of one project of ``organisation`` (a CDMO) for ``sponsor``."""
    from opencdmo.network.models import Site
    from opencdmo.projects.models import Product, Project
    from opencdmo.quality.records import Deviation

    site = Site.objects.create(
        owner=organisation,
        code="main",
        name=f"{organisation.name} site",
        country="US",
        region="north_america",
        city="Boston",
        latitude=42,
        longitude=-71,
    )
    product = Product.objects.create(
        owner=sponsor, name=f"mAb {organisation.pk}", modality="mab", phase="phase_2"
    )
    project = Project.objects.create(
        name=f"{organisation.name} project",
        sponsor=sponsor,
        cdmo=organisation,
        site=site,
        product=product,
        scope="clinical",
        phase="phase_2",
    )
    return Deviation.objects.bulk_create(
        (
            Deviation(
                project=project,
                title=f"Bioreactor pH excursion {n}",
                description="pH above 7.4 for 25 minutes during the feed.",
                evidence="Trend of pH, run log page 12",
                classification="minor",
                classification_rationale="Within the proven acceptable range.",
                root_cause="equipment",
                investigation="Probe drift; recalibrated.",
            )
            for n in range(count)
        ),
        batch_size=BATCH,
    )


def _fill(entries: int, chains: int, signatures: int) -> float:
    """Insert ``entries`` hash-chained entries over ``chains`` organisations, the first
    ``signatures`` of them (spread over the chains) recording an approval of one deviation
    each, with its ``quality.Signature`` row bound to the deviation's content; seconds taken."""
    import django

    django.setup()
    from django.db import transaction
    from django_scopes import scopes_disabled

    from opencdmo.accounts.models import Organisation, User
    from opencdmo.audit.models import AuditEntry, ChainHead
    from opencdmo.audit.services import GENESIS_HASH, chain_key, entry_hash
    from opencdmo.quality import signing
    from opencdmo.quality.models import Signature
    from opencdmo.quality.services import SIGNED

    started = time.perf_counter()
    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with scopes_disabled(), transaction.atomic():
        organisations = [
            Organisation.objects.create(name=f"Bench {i}", slug=f"bench-{i}", kind="cdmo")
            for i in range(chains)
        ]
        sponsor = Organisation.objects.create(
            name="Bench sponsor", slug="bench-sponsor", kind="sponsor"
        )
        per_chain, signed_per_chain = entries // chains, signatures // chains
        assert signed_per_chain <= per_chain, "every signature needs an entry of its own"
        for organisation in organisations:
            chain, prev_hash, pending = chain_key(organisation.pk), GENESIS_HASH, []
            signer = User.objects.create(
                username=f"qa-{organisation.slug}",
                first_name="Quinn",
                last_name=f"Bench {organisation.pk}",
                organisation=organisation,
                role="qa",
            )
            deviations = _deviations(organisation, sponsor, signed_per_chain)
            signed: list[Any] = []
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
                if seq <= signed_per_chain:
                    deviation = deviations[seq - 1]
                    content = signing.canonical_content(deviation)
                    digest = signing.content_sha256(content)
                    entry.actor_id, entry.actor_name = signer.pk, signer.get_full_name()
                    entry.shared_with_id = sponsor.pk
                    entry.action, entry.object_type = SIGNED, "quality.deviation"
                    entry.object_id, entry.object_repr = str(deviation.pk), str(deviation)[:200]
                    entry.before = {}
                    entry.after = {
                        "meaning": "approved",
                        "signer_name": entry.actor_name,
                        "content_sha256": digest,
                    }
                    entry.reason = "Signed as approved"
                    signed.append((deviation, content, digest, entry))
                entry.hash = prev_hash = entry_hash(entry)
                pending.append(entry)
                if len(pending) == BATCH:
                    AuditEntry.objects.bulk_create(pending)
                    pending = []
            AuditEntry.objects.bulk_create(pending)
            ChainHead.objects.create(chain=chain, last_seq=per_chain, last_hash=prev_hash)
            Signature.objects.bulk_create(
                (
                    Signature(
                        signer=signer,
                        signer_name=entry.actor_name,
                        organisation=organisation,
                        shared_with=sponsor,
                        meaning="approved",
                        record_type="quality.deviation",
                        record_id=str(deviation.pk),
                        record_repr=str(deviation)[:300],
                        content=content,
                        content_sha256=digest,
                        signed_at=entry.at,
                        reason="",
                        audit_entry=entry,
                    )
                    for deviation, content, digest, entry in signed
                ),
                batch_size=BATCH,
            )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--chains", type=int, default=10)
    parser.add_argument(
        "--signatures", type=int, default=0, help="signatures among the entries, of deviations"
    )
    options = parser.parse_args()
    print(
        f"{'entries':>10} {'signatures':>10} {'fill s':>8} {'verify s':>9} {'entries/s':>10} "
        f"{'peak MiB':>9}"
    )
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
                [
                    sys.executable,
                    __file__,
                    "--fill-only",
                    str(size),
                    str(options.chains),
                    str(options.signatures),
                ],
                env=environ,
                capture_output=True,
                text=True,
            )
            if fill.returncode:
                sys.exit(f"filling failed:\n{fill.stderr}")
            fill_s = float(fill.stdout.strip())
            _run(["audit", "checkpoint"], environ, folder)
            verify_s, peak_mib, out = _run(["audit", "verify"], environ, folder)
            # Checkpointing adds the sponsor's witness entries of the chains it shares.
            assert out.startswith("OK: "), out
            assert "CHANGED" not in out, out
            rate = size / verify_s
            print(
                f"{size:>10} {options.signatures:>10} {fill_s:>8.1f} {verify_s:>9.1f} "
                f"{rate:>10.0f} {peak_mib:>9.0f}"
            )
        finally:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--fill-only":
        print(f"{_fill(*map(int, sys.argv[2:])):.1f}")
    else:
        main()
