from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "opencdmo.scheduling"
    label = "scheduling"
    verbose_name = "Site plans"
