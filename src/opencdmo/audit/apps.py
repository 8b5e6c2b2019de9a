from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "opencdmo.audit"
    label = "audit"
    verbose_name = "Audit trail"
