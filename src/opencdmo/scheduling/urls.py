from django.urls import path

from opencdmo.scheduling import views

app_name = "scheduling"
urlpatterns = [
    path("plans/", views.plan_list, name="plans"),
    path("plans/<int:pk>/", views.site_plan, name="site-plan"),
    path("plans/<int:pk>/scenarios/new/", views.scenario_new, name="scenario-new"),
    path("plans/<int:pk>/compare/", views.compare, name="compare"),
    path("scenarios/<int:pk>/", views.scenario_detail, name="scenario"),
    path("scenarios/<int:pk>/solve/", views.scenario_solve, name="scenario-solve"),
    path("scenarios/<int:pk>/cancel/", views.scenario_cancel, name="scenario-cancel"),
    path("scenarios/<int:pk>/publish/", views.scenario_publish, name="scenario-publish"),
    path("planning/network/", views.network, name="network"),
    path("planning/network/run/", views.network_run, name="network-run"),
]
