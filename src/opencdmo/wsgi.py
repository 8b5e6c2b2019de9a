"""WSGI entry point for gunicorn: ``gunicorn opencdmo.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opencdmo.settings")
application = get_wsgi_application()
