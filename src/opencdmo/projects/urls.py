from django.urls import path

from opencdmo.projects import views

app_name = "projects"
urlpatterns = [
    path("requests/", views.request_list, name="requests"),
    path("requests/new/", views.request_new, name="request-new"),
    path("requests/<int:pk>/", views.request_detail, name="request"),
    path("requests/<int:pk>/cancel/", views.request_cancel, name="request-cancel"),
    path("options/<int:pk>/", views.option_detail, name="option"),
    path("options/<int:pk>/accept/", views.option_accept, name="option-accept"),
    path("projects/", views.project_list, name="projects"),
    path("projects/<int:pk>/", views.project_detail, name="project"),
]
