from django.urls import path

from tests.platform.shared_records import views

app_name = "shared_records"
urlpatterns = [path("shared-records/<int:pk>/", views.record_page, name="record")]
