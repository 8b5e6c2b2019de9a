from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "opencdmo.analytics"
    label = "analytics"
    verbose_name = "Batch monitoring"

    def ready(self) -> None:
        from opencdmo.analytics import services, signals  # noqa: F401  (signable record, hooks)
