from django.urls import path

from opencdmo.notifications import views

app_name = "notifications"
urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read/", views.mark_all_read, name="read-all"),
    path("inbox/<int:pk>/open/", views.open_notice, name="open"),
    path("account/notifications/", views.preferences, name="preferences"),
]
