from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "opencdmo.projects"
    label = "projects"
    verbose_name = "Requests and projects"

    def ready(self) -> None:
        # Importing registers document versions as signable records, and overdue tasks and
        # mentions with the notifications.
        from opencdmo.projects import document_services, workspace_services  # noqa: F401
