from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "opencdmo.web"
    label = "web"
    verbose_name = "Web"
