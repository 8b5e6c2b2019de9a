"""The product's settings plus the shared-record fixture app, for the test suite only."""

import tempfile
from pathlib import Path

from opencdmo.settings import *  # noqa: F403
from opencdmo.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.platform.shared_records"]
ROOT_URLCONF = "tests.platform.urls"

# The audit signing key and checkpoints of a test run stay out of the data folder, so a
# developer's own checkpoints never judge the test database.
AUDIT_DIR = Path(tempfile.mkdtemp(prefix="opencdmo-test-audit-"))
AUDIT_KEY_FILE = AUDIT_DIR / "audit-signing.key"
AUDIT_CHECKPOINTS = AUDIT_DIR / "audit-checkpoints.jsonl"
# Project documents a test run uploads stay out of the data folder too.
DOCUMENT_STORE_DIR = Path(tempfile.mkdtemp(prefix="opencdmo-test-documents-"))

# The test client speaks plain HTTP; tests/web/test_production.py proves the HTTPS redirect.
SECURE_SSL_REDIRECT = False

# Tests sign in with ``force_login``, which skips the code step; tests/accounts/
# test_two_factor.py turns the admin's two-factor rule on where it proves it.
ADMIN_REQUIRE_2FA = False
