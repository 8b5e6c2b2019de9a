from django.apps import AppConfig


class ManufacturingConfig(AppConfig):
    name = "opencdmo.manufacturing"
    label = "manufacturing"
    verbose_name = "Manufacturing"
