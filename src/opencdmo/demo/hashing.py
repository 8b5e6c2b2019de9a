"""Password hashing for seeding many demo users who share one password.

Argon2 at the platform's strength takes a tenth of a second or more per hash; the
demo world has dozens of users with the same printed password, so the seeder hashes it once
and stores the same encoded hash for each of them. The hash is a normal Argon2 hash that the
platform's own hasher verifies; only the salt is shared, which does not matter for a password
that ``opencdmo demo`` prints on the screen.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar

from django.test.utils import override_settings

from opencdmo.accounts.hashers import Argon2idHasher


class SharedDemoPasswordHasher(Argon2idHasher):
    """Argon2 that computes each distinct password's hash once per process."""

    _encoded: ClassVar[dict[str, str]] = {}

    def encode(self, password: str, salt: str) -> str:
        if password not in self._encoded:
            self._encoded[password] = super().encode(password, salt)
        return self._encoded[password]


@contextmanager
def one_hash_per_password() -> Iterator[None]:
    """Within the block, new passwords are hashed once each (see the module docstring)."""
    with override_settings(PASSWORD_HASHERS=[f"{__name__}.SharedDemoPasswordHasher"]):
        yield
