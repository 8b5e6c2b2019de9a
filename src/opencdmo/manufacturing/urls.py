from django.urls import path

from opencdmo.manufacturing import views

app_name = "manufacturing"
urlpatterns = [
    path("batches/", views.batch_list, name="batches"),
    path("batches/<int:pk>/", views.batch_detail, name="batch"),
    path("batches/<int:pk>/state/", views.batch_state, name="batch-state"),
    path("batches/<int:pk>/upload/", views.batch_upload, name="batch-upload"),
    path("batches/<int:pk>/results/", views.batch_result, name="batch-result"),
    path("batches/<int:pk>/export.csv", views.batch_export, name="batch-export"),
    path("connections/", views.connection_list, name="connections"),
    path("connections/new/", views.connection_new, name="connection-new"),
    path("connections/<int:pk>/edit/", views.connection_edit, name="connection-edit"),
]
