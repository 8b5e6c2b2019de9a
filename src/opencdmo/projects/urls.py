from django.urls import path

from opencdmo.projects import document_views, views, workspace_views

app_name = "projects"
urlpatterns = [
    path("requests/", views.request_list, name="requests"),
    path("requests/new/", views.request_new, name="request-new"),
    path("requests/<int:pk>/", views.request_detail, name="request"),
    path("requests/<int:pk>/cancel/", views.request_cancel, name="request-cancel"),
    path("options/<int:pk>/", views.option_detail, name="option"),
    path("options/<int:pk>/accept/", views.option_accept, name="option-accept"),
    path("projects/", views.project_list, name="projects"),
    path("projects/<int:pk>/", views.project_detail, name="project"),
    path("projects/<int:pk>/workspace/", workspace_views.workspace, name="workspace"),
    path(
        "projects/<int:pk>/workspace/messages/",
        workspace_views.post_message,
        name="workspace-message",
    ),
    path("projects/<int:pk>/workspace/team/", workspace_views.add_member, name="workspace-member"),
    path(
        "projects/<int:pk>/workspace/milestones/",
        workspace_views.add_milestone,
        name="workspace-milestone",
    ),
    path("projects/<int:pk>/workspace/tasks/", workspace_views.add_task, name="workspace-task"),
    path("milestones/<int:pk>/", workspace_views.update_milestone, name="milestone"),
    path("tasks/<int:pk>/done/", workspace_views.complete_task, name="task-done"),
    path("projects/<int:pk>/documents/", document_views.document_list, name="documents"),
    path(
        "projects/<int:pk>/documents/new/",
        document_views.document_upload,
        name="document-upload",
    ),
    path("documents/<int:pk>/", document_views.document_detail, name="document"),
    path("documents/<int:pk>/versions/", document_views.version_upload, name="version-upload"),
    path(
        "document-versions/<int:pk>/submit/", document_views.version_submit, name="version-submit"
    ),
    path("document-versions/<int:pk>/edit/", document_views.version_edit, name="version-edit"),
    path("document-versions/<int:pk>/sign/", document_views.version_sign, name="version-sign"),
    path(
        "document-versions/<int:pk>/effective/",
        document_views.version_effective,
        name="version-effective",
    ),
    path(
        "document-versions/<int:pk>/obsolete/",
        document_views.version_obsolete,
        name="version-obsolete",
    ),
    path(
        "document-versions/<int:pk>/download/",
        document_views.version_download,
        name="version-download",
    ),
]
