from django.apps import AppConfig


class SharedRecordsConfig(AppConfig):
    """Installed by the test settings only: the product never lists or documents it."""

    name = "tests.platform.shared_records"
    label = "shared_records"
    verbose_name = "Shared records (test fixture)"

    def ready(self) -> None:
        from opencdmo.api import api
        from tests.platform.shared_records.api import router

        api.add_router("/", router)
