from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "opencdmo.network"
    label = "network"
    verbose_name = "Site network"

    def ready(self) -> None:
        from opencdmo.network.cache import connect_signals

        connect_signals()
