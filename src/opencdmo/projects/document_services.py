"""Controlled documents: upload, versions, review and approval by signature, effectiveness.

A version's file goes to the file store under its SHA-256 only after the size and type
checks pass, and is removed again if its record cannot be written, so a refused upload
leaves nothing behind. Reviewers and approvers are named when a draft goes to review; each
signs (quality's ``sign``: password, code, meaning) and the version is approved once every
named person has a current signature. It becomes effective only while those signatures
still match it and its file is intact, superseding the version effective before.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path, PurePath
from typing import Any, BinaryIO

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from opencdmo.accounts.models import User
from opencdmo.accounts.roles import SIGN_RECORDS
from opencdmo.core import services
from opencdmo.core.files import FileStore
from opencdmo.projects.documents import Document, DocumentRoute, DocumentVersion
from opencdmo.projects.models import Project
from opencdmo.projects.workspace import WORKSPACE
from opencdmo.quality import services as quality
from opencdmo.quality import signing
from opencdmo.quality.models import Meaning, Signature

DRAFT, IN_REVIEW, APPROVED, EFFECTIVE, SUPERSEDED, OBSOLETE = (
    str(value) for value, _ in DocumentVersion.State.choices
)
FORBIDDEN_SUFFIXES = frozenset(
    {
        ".exe",
        ".dll",
        ".bat",
        ".cmd",
        ".com",
        ".msi",
        ".scr",
        ".ps1",
        ".sh",
        ".js",
        ".vbs",
        ".jar",
        ".html",
        ".htm",
        ".svg",
        ".php",
        ".py",
    }
)
"""Programs and pages a browser or a desktop would run; documents are never such files."""
_PROGRAM_MAGIC = (b"MZ", b"\x7fELF", b"#!")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    DRAFT: (IN_REVIEW, OBSOLETE),
    IN_REVIEW: (APPROVED, OBSOLETE),
    APPROVED: (EFFECTIVE, OBSOLETE),
    EFFECTIVE: (SUPERSEDED, OBSOLETE),
}
SIGNED_FIELDS = ("document", "version", "title", "summary", "file_name", "size_bytes", "sha256")
STEP_MEANING = {
    DocumentRoute.Step.REVIEW: Meaning.REVIEWED,
    DocumentRoute.Step.APPROVE: Meaning.APPROVED,
}

signing.register_signable(
    DocumentVersion,
    fields=SIGNED_FIELDS,
    meanings=(str(Meaning.REVIEWED), str(Meaning.APPROVED)),
    permission=WORKSPACE,
)

DOCUMENT = services.Writable(Document, fields=("number",), noun="document")
VERSION = services.Writable(
    DocumentVersion,
    fields=(
        "version",
        "title",
        "summary",
        "file_name",
        "content_type",
        "size_bytes",
        "sha256",
        "stored_key",
    ),
    noun="document_version",
)
METADATA = services.Writable(DocumentVersion, fields=("title", "summary"), noun="document_version")
MOVE = services.Writable(DocumentVersion, fields=("state", "effective_at"), noun="document_version")
ROUTE = services.Writable(DocumentRoute, fields=("user", "step"), noun="document_route")


def store_of(project: Project) -> FileStore:
    """The executing CDMO's document files, each named by its SHA-256."""
    return FileStore(Path(settings.DOCUMENT_STORE_DIR) / str(project.cdmo_id))


def _checked_upload(name: str, size: int | None) -> tuple[str, str]:
    """(file name, suffix) of an acceptable upload; refused by name otherwise."""
    file_name = PurePath(name or "").name.strip()
    if not file_name:
        raise ValidationError({"file": "Choose a file to upload."})
    suffix = PurePath(file_name).suffix.lower()
    if suffix in FORBIDDEN_SUFFIXES:
        raise ValidationError(
            {"file": f"{file_name}: files of type {suffix} cannot be kept as documents."}
        )
    limit = settings.DOCUMENT_MAX_BYTES
    if size is not None and size > limit:
        raise ValidationError(
            {"file": f"{file_name}: {size:,} bytes is larger than the limit of {limit:,} bytes."}
        )
    return file_name, suffix if len(suffix) <= 11 and suffix[1:].isalnum() else ""


def _limited_chunks(upload: Any, file_name: str) -> Iterable[bytes]:
    """The upload's bytes, refused when a program or over the limit as they stream in."""
    total, first = 0, True
    chunks = (
        upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(1 << 20), b"")
    )
    for chunk in chunks:
        if first and chunk.startswith(_PROGRAM_MAGIC):
            raise ValidationError({"file": f"{file_name}: a program cannot be kept as a document."})
        first = False
        total += len(chunk)
        if total > settings.DOCUMENT_MAX_BYTES:
            raise ValidationError(
                {
                    "file": f"{file_name}: larger than the limit of {settings.DOCUMENT_MAX_BYTES:,} bytes."
                }
            )
        yield chunk


def _store_version(
    document: Document, actor: User | None, upload: Any, title: str, summary: str, number: int
) -> DocumentVersion:
    file_name, suffix = _checked_upload(getattr(upload, "name", ""), getattr(upload, "size", None))
    store = store_of(document.project)
    stored = store.put(_limited_chunks(upload, file_name), suffix=suffix)
    key = stored.path.name
    try:
        return services.create(
            VERSION,
            actor=actor,
            default_reason="Version uploaded",
            parent={"document": document, "uploaded_by": actor},
            fields={
                "version": number,
                "title": title,
                "summary": summary,
                "file_name": file_name,
                "content_type": getattr(upload, "content_type", "") or "",
                "size_bytes": stored.size,
                "sha256": stored.sha256,
                "stored_key": key,
            },
        )
    except BaseException:
        with scopes_disabled():
            kept = DocumentVersion.objects.filter(
                document__project__cdmo_id=document.project.cdmo_id, stored_key=key
            ).exists()
        if not kept:
            store.path(key).unlink(missing_ok=True)
        raise


def upload_document(
    project: Project, *, actor: User | None, number: str, title: str, upload: Any, summary: str = ""
) -> DocumentVersion:
    """A new document of ``project`` and its first version, a draft."""
    number = number.strip()
    _checked_upload(getattr(upload, "name", ""), getattr(upload, "size", None))
    with scopes_disabled():
        taken = Document.objects.filter(project=project, number=number).exists()
    if taken:
        raise ValidationError({"number": f"{project} has a document {number} already."})
    with transaction.atomic():
        document = services.create(
            DOCUMENT,
            actor=actor,
            default_reason="Document created",
            parent={"project": project},
            fields={"number": number},
        )
        return _store_version(document, actor, upload, title, summary, 1)


def upload_version(
    document: Document, *, actor: User | None, title: str, upload: Any, summary: str = ""
) -> DocumentVersion:
    """The next version of ``document``, a draft; one version at a time is worked on."""
    with scopes_disabled():
        versions = list(document.versions.all())
    open_ones = [v for v in versions if v.state in (DRAFT, IN_REVIEW, APPROVED)]
    if open_ones:
        raise ValidationError(
            {
                "file": f"Version {open_ones[0].version} is {open_ones[0].get_state_display().lower()}; "
                "make it effective or obsolete first."
            }
        )
    number = max((v.version for v in versions), default=0) + 1
    return _store_version(document, actor, upload, title, summary, number)


def edit_version(
    version: DocumentVersion, *, actor: User | None, reason: str, **changes: Any
) -> DocumentVersion:
    """Change a version's title or summary; signatures made before show it changed."""
    if version.state not in (DRAFT, IN_REVIEW, APPROVED):
        raise ValidationError(
            {"state": f"A {version.get_state_display().lower()} version stays as it is."}
        )
    return services.update(METADATA, version, actor=actor, reason=reason, changes=changes)


def _move(
    version: DocumentVersion, to: str, *, actor: User | None, reason: str, **extra: Any
) -> DocumentVersion:
    allowed = TRANSITIONS.get(version.state, ())
    if to not in allowed:
        choices = ", ".join(allowed) or "nothing: it is final"
        raise ValidationError(
            {
                "state": f"A {version.get_state_display().lower()} version cannot become {to}; "
                f"it may become {choices}."
            }
        )
    return services.update(
        MOVE, version, actor=actor, reason=reason, changes={"state": to, **extra}, verb=to
    )


def _parties(version: DocumentVersion) -> set[int]:
    with scopes_disabled():
        project = version.document.project
    return {project.cdmo_id, project.sponsor_id}


def submit_for_review(
    version: DocumentVersion,
    *,
    actor: User | None,
    reviewers: Iterable[User],
    approvers: Iterable[User],
    reason: str = "",
) -> DocumentVersion:
    """Name the reviewers and approvers (of either party) and send the draft to review."""
    people = {
        DocumentRoute.Step.REVIEW: list(reviewers),
        DocumentRoute.Step.APPROVE: list(approvers),
    }
    if not people[DocumentRoute.Step.APPROVE]:
        raise ValidationError({"approvers": "Name at least one approver."})
    parties = _parties(version)
    for field, step in (
        ("reviewers", DocumentRoute.Step.REVIEW),
        ("approvers", DocumentRoute.Step.APPROVE),
    ):
        for user in people[step]:
            if user.organisation_id not in parties:
                raise ValidationError({field: f"{user} belongs to neither party of the project."})
    with transaction.atomic():
        moved = _move(version, IN_REVIEW, actor=actor, reason=reason or "Sent for review")
        for step, users in people.items():
            for user in dict.fromkeys(users):
                services.create(
                    ROUTE,
                    actor=actor,
                    default_reason="Named for the version's review",
                    parent={"version": moved},
                    fields={"user": user, "step": step},
                )
    return moved


def routes_of(version: DocumentVersion) -> list[DocumentRoute]:
    with scopes_disabled():
        return list(version.routes.select_related("user__organisation"))


def outstanding(version: DocumentVersion) -> list[DocumentRoute]:
    """The named people without a current signature of their step's meaning."""
    signed = {
        (s.signature.signer_id, s.signature.meaning)
        for s in quality.signatures_of(version)
        if s.current
    }
    return [r for r in routes_of(version) if (r.user_id, STEP_MEANING[r.step]) not in signed]


def sign_version(
    version: DocumentVersion,
    user: User,
    *,
    meaning: str,
    password: str,
    totp_code: str = "",
    reason: str = "",
    seen_sha256: str,
) -> Signature:
    """Sign a version in review as a named reviewer or approver; the last one approves it."""
    if version.state != IN_REVIEW:
        raise ValidationError({"meaning": "Only a version in review is signed."})
    steps = {STEP_MEANING[r.step] for r in routes_of(version) if r.user_id == user.pk}
    if meaning not in steps:
        raise PermissionDenied(f"You are not named to sign this version as {meaning}.")
    signature = quality.sign(user, version, meaning, password, totp_code, reason, seen_sha256)
    if not outstanding(version):
        _move(version, APPROVED, actor=user, reason="Every named reviewer and approver signed")
    return signature


def file_intact(version: DocumentVersion) -> bool:
    """Whether the stored file still hashes to the version's SHA-256."""
    with scopes_disabled():
        store = store_of(version.document.project)
    try:
        return store.sha256(version.stored_key) == version.sha256
    except OSError:
        return False


def make_effective(version: DocumentVersion, *, actor: User | None, reason: str) -> DocumentVersion:
    """Make an approved version effective, superseding the one effective before.

    Refused when a signature no longer matches the version ("changed since signing") or the
    stored file is not the signed one.
    """
    if actor is not None and not actor.can(SIGN_RECORDS):
        raise PermissionDenied("Your role may not make documents effective.")
    changed = [s for s in quality.signatures_of(version) if not s.current]
    if version.state == APPROVED and (changed or outstanding(version)):
        fields = sorted({f for s in changed for f in s.changed})
        raise ValidationError(
            {
                "state": f"{version} changed since signing ({', '.join(fields)}); it needs new "
                "signatures before it can become effective."
            }
        )
    if version.state == APPROVED and not file_intact(version):
        raise ValidationError({"state": f"The stored file of {version} is not the signed one."})
    with transaction.atomic():
        with scopes_disabled():
            before = list(
                DocumentVersion.objects.filter(document_id=version.document_id, state=EFFECTIVE)
            )
        for old in before:
            _move(
                old,
                SUPERSEDED,
                actor=actor,
                reason=f"Superseded by version {version.version}",
            )
        return _move(version, EFFECTIVE, actor=actor, reason=reason, effective_at=timezone.now())


def make_obsolete(version: DocumentVersion, *, actor: User | None, reason: str) -> DocumentVersion:
    return _move(version, OBSOLETE, actor=actor, reason=reason)


def shown_version(document: Document, number: int | None = None) -> DocumentVersion | None:
    """The version asked for, else the effective one, else the latest."""
    with scopes_disabled():
        versions = list(document.versions.all())
    if number is not None:
        return next((v for v in versions if v.version == number), None)
    effective = [v for v in versions if v.state == EFFECTIVE]
    return effective[0] if effective else (versions[0] if versions else None)


def open_file(version: DocumentVersion) -> BinaryIO:
    with scopes_disabled():
        return store_of(version.document.project).open(version.stored_key)
