from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "opencdmo.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from opencdmo.accounts import signals  # noqa: F401  (connects login/logout auditing)
