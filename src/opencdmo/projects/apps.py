from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "opencdmo.projects"
    label = "projects"
    verbose_name = "Requests and projects"
