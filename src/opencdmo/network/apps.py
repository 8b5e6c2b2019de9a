from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "opencdmo.network"
    label = "network"
    verbose_name = "Site network"
