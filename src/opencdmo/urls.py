from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from opencdmo.accounts import views as accounts
from opencdmo.api import api

urlpatterns = [
    path("login/", accounts.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/tokens/", accounts.account, name="account"),
    path("account/tokens/<int:token_id>/revoke/", accounts.revoke_token, name="revoke-token"),
    path("organisations/", accounts.organisation_list, name="organisations"),
    path("organisations/<slug:slug>/", accounts.organisation_detail, name="organisation"),
    path("", include("opencdmo.audit.urls")),
    path("", include("opencdmo.network.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]

handler404 = "opencdmo.web.views.not_found"
handler500 = "opencdmo.web.views.server_error"
