from django.urls import path

from opencdmo.network import views

app_name = "network"
urlpatterns = [
    path("", views.directory, name="home"),
    path("sites/", views.directory, name="directory"),
    path("sites/<int:pk>/", views.site_detail, name="site"),
    path("suites/<int:pk>/edit/", views.suite_edit, name="suite-edit"),
]
