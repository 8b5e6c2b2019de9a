from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from opencdmo.accounts import views as accounts
from opencdmo.api import api
from opencdmo.web import views as web

urlpatterns = [
    path("", web.home, name="home"),
    path("login/", accounts.LoginView.as_view(), name="login"),
    path("login/two-factor/", accounts.login_two_factor, name="login-two-factor"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/two-factor/", accounts.two_factor, name="two-factor"),
    path("account/tokens/", accounts.account, name="account"),
    path("account/password/", accounts.PasswordChangeView.as_view(), name="password-change"),
    path("account/password/reset/", accounts.PasswordResetView.as_view(), name="password-reset"),
    path(
        "account/password/reset/sent/",
        accounts.PasswordResetSentView.as_view(),
        name="password-reset-sent",
    ),
    path(
        "account/password/reset/<uidb64>/<token>/",
        accounts.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path("account/tokens/<int:token_id>/revoke/", accounts.revoke_token, name="revoke-token"),
    path("organisations/", accounts.organisation_list, name="organisations"),
    path("organisations/<slug:slug>/", accounts.organisation_detail, name="organisation"),
    path("users/", accounts.user_list, name="users"),
    path("users/invite/", accounts.user_invite, name="user-invite"),
    path("users/two-factor/", accounts.two_factor_policy, name="two-factor-policy"),
    path("users/<int:pk>/", accounts.user_detail, name="user"),
    path("users/<int:pk>/role/", accounts.user_change_role, name="user-role"),
    path("users/<int:pk>/active/", accounts.user_set_active, name="user-active"),
    path("users/<int:pk>/link/", accounts.user_new_link, name="user-link"),
    path(
        "account/set-password/<uidb64>/<token>/",
        accounts.SetPasswordView.as_view(),
        name="set-password",
    ),
    path("", include("opencdmo.audit.urls")),
    path("", include("opencdmo.network.urls")),
    path("", include("opencdmo.projects.urls")),
    path("", include("opencdmo.scheduling.urls")),
    path("", include("opencdmo.quality.urls")),
    path("", include("opencdmo.manufacturing.urls")),
    path("", include("opencdmo.analytics.urls")),
    path("", include("opencdmo.notifications.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]

handler403 = "opencdmo.web.views.permission_denied"
handler404 = "opencdmo.web.views.not_found"
handler500 = "opencdmo.web.views.server_error"
