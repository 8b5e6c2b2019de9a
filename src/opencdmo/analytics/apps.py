from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "opencdmo.analytics"
    label = "analytics"
    verbose_name = "Batch monitoring"

    def ready(self) -> None:
        from opencdmo.analytics import services, signals  # noqa: F401  (signable record, hooks)
        from opencdmo.analytics.review import process_verdict
        from opencdmo.quality.disposition import register_verdict

        register_verdict(process_verdict)
