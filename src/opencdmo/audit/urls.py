from django.urls import path

from opencdmo.audit import views

app_name = "audit"
urlpatterns = [
    path("audit/", views.trail, name="trail"),
    path("audit/verify/", views.verify, name="verify"),
    path("audit/export.csv", views.export_csv, name="export_csv"),
    path("audit/export.pdf", views.export_pdf, name="export_pdf"),
]
