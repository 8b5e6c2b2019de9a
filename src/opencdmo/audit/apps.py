from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _create_signing_key(**kwargs: Any) -> None:
    """``opencdmo migrate`` and ``opencdmo demo`` leave a signing key behind if none exists."""
    from opencdmo.audit.keys import ensure_key

    ensure_key()


class AuditConfig(AppConfig):
    name = "opencdmo.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        post_migrate.connect(_create_signing_key, sender=self)
