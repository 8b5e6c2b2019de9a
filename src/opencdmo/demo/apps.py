from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "opencdmo.demo"
    label = "demo"
    verbose_name = "Demo world"
