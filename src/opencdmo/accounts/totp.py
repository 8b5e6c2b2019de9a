"""Time-based one-time codes (RFC 6238, through pyotp) and single-use recovery codes.

The TOTP secret is stored encrypted (Fernet) with a key derived from ``SECRET_KEY`` by
HKDF-SHA256, so a copy of the database alone does not reveal it; under another
``SECRET_KEY`` no stored secret can be read, and no code matches.
Recovery codes have 50 random bits each, so a keyed SHA-256 digest (HMAC with another key
derived from ``SECRET_KEY``) stores them safely without a slow hash.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

import pyotp
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

ISSUER = "opencdmo"
STEP_S = 30
DIGITS = 6
VALID_WINDOW = 1
"""Codes of the step before and after the current one pass too: a phone's clock may be off by
up to 30 s, and a code typed at the end of its step arrives in the next."""
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


class SecretUnreadableError(Exception):
    """The stored secret was encrypted under another ``SECRET_KEY``."""


def _derived_key(purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        settings.SECRET_KEY.encode()
    )


def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derived_key(b"opencdmo totp secret")))


def new_secret() -> str:
    """A random base32 secret of 160 bits, as RFC 4226 recommends."""
    return pyotp.random_base32(length=32)


def encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt(stored: str) -> str:
    try:
        return _fernet().decrypt(stored.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadableError(
            "The stored two-factor secret cannot be read with this server's key."
        ) from exc


def provisioning_uri(secret: str, username: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads (typed in or from a QR code)."""
    return pyotp.TOTP(secret, issuer=ISSUER).provisioning_uri(name=username, issuer_name=ISSUER)


def normalise_code(code: str) -> str:
    """Digits and letters only, lower case: spaces and dashes people type are ignored."""
    return "".join(ch for ch in code.lower() if ch.isalnum())


def now_s() -> float:
    """Seconds since the epoch, the clock codes are checked against."""
    return time.time()


def matching_step(secret: str, code: str, after_step: int | None) -> int:
    """The time step whose code ``code`` is, within ``VALID_WINDOW`` of now; 0 if none.

    A step at or before ``after_step`` (the last one accepted) does not count, so a code seen
    over someone's shoulder cannot be used a second time.
    """
    code = normalise_code(code)
    if len(code) != DIGITS or not code.isdigit():
        return 0
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_S)
    current = int(now_s() // STEP_S)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if after_step is not None and step <= after_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return 0


def code_at(secret: str, when: float) -> str:
    """The code an authenticator shows at ``when`` (seconds since the epoch)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_S).at(int(when))


def new_recovery_codes() -> list[str]:
    """Ten codes of ten characters (about 50 bits each), written ``xxxxx-xxxxx``."""
    codes = []
    for _ in range(RECOVERY_CODES):
        body = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{body[:5]}-{body[5:]}")
    return codes


def recovery_digest(code: str) -> str:
    """The stored form of a recovery code: HMAC-SHA256 under a key derived from SECRET_KEY."""
    key = _derived_key(b"opencdmo recovery code")
    return hmac.new(key, normalise_code(code).encode(), hashlib.sha256).hexdigest()
