from django.urls import path

from opencdmo.analytics import views

app_name = "analytics"
urlpatterns = [
    path("monitoring/", views.monitoring, name="monitoring"),
    path("monitoring/projects/<int:pk>/models/new/", views.model_new, name="model-new"),
    path("monitoring/projects/<int:pk>/sharing/", views.project_sharing, name="sharing"),
    path("monitoring/models/<int:pk>/", views.model_detail, name="model"),
    path("monitoring/models/<int:pk>/sign/", views.model_sign, name="model-sign"),
    path("monitoring/batches/<int:pk>/", views.batch_monitoring, name="batch"),
    path("monitoring/batches/<int:pk>/contributions/", views.contributions, name="contributions"),
]
