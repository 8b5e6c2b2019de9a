from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Installs the accessors that keep tenant rows behind their scope once every model exists."""

    name = "opencdmo.core"
    label = "core"
    verbose_name = "Platform core"

    def ready(self) -> None:
        from opencdmo.core.tenancy import guard_accessors

        guard_accessors()
