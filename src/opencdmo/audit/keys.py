"""The audit signing key: kept in a file or the environment, never in the database.

Someone who can write the database can recompute every hash of a chain; they cannot sign a
checkpoint without this key. ``OPENCDMO_AUDIT_KEY`` (the 32 raw bytes of an Ed25519 private
key, base64) wins over the key file ``OPENCDMO_AUDIT_KEY_FILE`` (PEM, PKCS #8), which defaults
to ``<OPENCDMO_DATA_DIR>/audit-signing.key`` and is created with mode 0600 when first needed.
Every public key ever used is appended to the public-keys file beside the checkpoints, so
checkpoints signed before a rotation still verify.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import hashlib
import json
import os
import tempfile
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

KEY_ENV = "OPENCDMO_AUDIT_KEY"
KEY_FILE_ENV = "OPENCDMO_AUDIT_KEY_FILE"
CHECKPOINTS_ENV = "OPENCDMO_AUDIT_CHECKPOINTS"


class AuditKeyError(Exception):
    """The signing key or the public-keys file cannot be used; the message says which and why."""


def key_file() -> Path:
    """Where the signing key lives: the setting, the environment, else the data folder."""
    configured = getattr(settings, "AUDIT_KEY_FILE", None) or os.environ.get(KEY_FILE_ENV)
    return Path(configured) if configured else Path(settings.DATA_DIR) / "audit-signing.key"


def checkpoints_file() -> Path:
    """The append-only JSON-lines file of signed checkpoints."""
    configured = getattr(settings, "AUDIT_CHECKPOINTS", None) or os.environ.get(CHECKPOINTS_ENV)
    return Path(configured) if configured else Path(settings.DATA_DIR) / "audit-checkpoints.jsonl"


def public_keys_file() -> Path:
    """Beside the checkpoints, so the two travel together to wherever they are kept."""
    return checkpoints_file().with_name("audit-public-keys.jsonl")


def raw_public(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key: Ed25519PublicKey) -> str:
    """The first 16 hex digits of SHA-256 over the raw public key: short, stable, printable."""
    return hashlib.sha256(raw_public(public_key)).hexdigest()[:16]


def encode_public(public_key: Ed25519PublicKey) -> str:
    return base64.b64encode(raw_public(public_key)).decode()


def decode_public(text: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
    except (ValueError, binascii.Error) as exc:
        raise AuditKeyError(f"public_key: not a base64 Ed25519 public key ({exc})") from exc


def _pem(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_private(path: Path, private_key: Ed25519PrivateKey, *, replace: bool) -> None:
    """Write the key to a temporary file (mkstemp: mode 0600), then put it in place in one step.

    A first key is linked in, which fails if another process made one meanwhile (that one
    is kept); a rotated key replaces the old file. No reader ever sees half a key.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(_pem(private_key))
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(temporary, path)
        else:
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def _from_environment(text: str) -> Ed25519PrivateKey:
    try:
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(text, validate=True))
    except (ValueError, binascii.Error) as exc:
        raise AuditKeyError(
            f"{KEY_ENV}: expected the base64 of 32 raw Ed25519 private-key bytes ({exc})"
        ) from exc


def _from_file(path: Path) -> Ed25519PrivateKey:
    try:
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise AuditKeyError(f"{path}: not an unencrypted PEM private key ({exc})") from exc
    if not isinstance(loaded, Ed25519PrivateKey):
        raise AuditKeyError(f"{path}: holds a {type(loaded).__name__}, not an Ed25519 key")
    return loaded


def key_from_environment() -> bool:
    return bool(os.environ.get(KEY_ENV))


def signing_key(*, create: bool = True) -> Ed25519PrivateKey:
    """The current signing key; with ``create``, a missing key file is made (0600) first."""
    if key_from_environment():
        private_key = _from_environment(os.environ[KEY_ENV])
    else:
        path = key_file()
        if not path.exists():
            if not create:
                raise AuditKeyError(f"{path}: no audit signing key (run 'opencdmo audit keygen')")
            _write_private(path, Ed25519PrivateKey.generate(), replace=False)
        private_key = _from_file(path)
    remember_public(private_key.public_key())
    return private_key


def ensure_key() -> tuple[Path | None, bool]:
    """Create the key file if it is missing; ``(path, created)``, path None for the environment."""
    if key_from_environment():
        signing_key()
        return None, False
    path = key_file()
    existed = path.exists()
    signing_key()
    return path, not existed


def install_key(new: Ed25519PrivateKey) -> None:
    """Put a new key in the key file, its public half first in the public-keys file."""
    if key_from_environment():
        raise AuditKeyError(
            f"{KEY_ENV}: the key comes from the environment; put a new one there instead"
        )
    remember_public(new.public_key())
    _write_private(key_file(), new, replace=True)


def known_public_keys() -> dict[str, Ed25519PublicKey]:
    """Every public key in the public-keys file by key id; a bad line is named by file and line."""
    path = public_keys_file()
    keys: dict[str, Ed25519PublicKey] = {}
    if not path.exists():
        return keys
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            public_key = decode_public(record["public_key"])
        except (json.JSONDecodeError, KeyError, TypeError, AuditKeyError) as exc:
            raise AuditKeyError(f"{path}, line {number}: unreadable public key ({exc})") from exc
        keys[key_id(public_key)] = public_key
    return keys


def remember_public(public_key: Ed25519PublicKey) -> None:
    """Append the public key to the public-keys file unless it is there already."""
    if key_id(public_key) in known_public_keys():
        return
    line = json.dumps(
        {
            "key_id": key_id(public_key),
            "public_key": encode_public(public_key),
            "added": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        },
        sort_keys=True,
    )
    append_line(public_keys_file(), line)


def append_line(path: Path, line: str) -> None:
    """One whole line in one write on an O_APPEND descriptor, then fsync: never a torn record."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(descriptor, (line + "\n").encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def signature_valid(public_key: Ed25519PublicKey, signature: str, message: bytes) -> bool:
    try:
        public_key.verify(base64.b64decode(signature, validate=True), message)
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


def sign(private_key: Ed25519PrivateKey, message: bytes) -> str:
    return base64.b64encode(private_key.sign(message)).decode()
