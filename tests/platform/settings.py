"""The product's settings plus the shared-record fixture app, for the test suite only."""

from opencdmo.settings import *  # noqa: F403
from opencdmo.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.platform.shared_records"]
ROOT_URLCONF = "tests.platform.urls"
