from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "opencdmo.quality"
    label = "quality"
    verbose_name = "Quality"

    def ready(self) -> None:
        # Importing registers the signable records and the digest's overdue lists.
        from opencdmo.quality import capa, deviations, disposition, services  # noqa: F401
