from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "opencdmo.quality"
    label = "quality"
    verbose_name = "Quality"

    def ready(self) -> None:
        from opencdmo.quality import services  # noqa: F401  (registers the signable records)
