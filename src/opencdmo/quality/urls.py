from django.urls import path

from opencdmo.quality import views

app_name = "quality"
urlpatterns = [
    path("quality/agreements/", views.agreement_list, name="agreements"),
    path("quality/agreements/<int:pk>/", views.agreement_detail, name="agreement"),
    path("quality/agreements/<int:pk>/edit/", views.agreement_edit, name="agreement-edit"),
    path("quality/agreements/<int:pk>/sign/", views.agreement_sign, name="agreement-sign"),
    path("quality/projects/<int:pk>/agreement/", views.agreement_new, name="agreement-new"),
]
