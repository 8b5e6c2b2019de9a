from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "opencdmo.notifications"
    label = "notifications"
    verbose_name = "Notifications"
