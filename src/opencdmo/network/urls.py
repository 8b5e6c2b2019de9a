from django.urls import path

from opencdmo.network import views

app_name = "network"
urlpatterns = [
    path("", views.directory, name="home"),
    path("sites/", views.directory, name="directory"),
    path("sites/import/", views.import_page, name="import"),
    path("sites/import/<int:pk>/", views.import_job, name="import-job"),
    path("sites/<int:pk>/", views.site_detail, name="site"),
    path("sites/<int:pk>/private/edit/", views.private_profile_edit, name="private-edit"),
    path("suites/<int:pk>/edit/", views.suite_edit, name="suite-edit"),
    path("equipment/<int:pk>/edit/", views.equipment_edit, name="equipment-edit"),
]
