from django.urls import path

from opencdmo.quality import record_views as records
from opencdmo.quality import views

app_name = "quality"
urlpatterns = [
    path("quality/agreements/", views.agreement_list, name="agreements"),
    path("quality/agreements/<int:pk>/", views.agreement_detail, name="agreement"),
    path("quality/agreements/<int:pk>/edit/", views.agreement_edit, name="agreement-edit"),
    path("quality/agreements/<int:pk>/sign/", views.agreement_sign, name="agreement-sign"),
    path("quality/projects/<int:pk>/agreement/", views.agreement_new, name="agreement-new"),
    path("quality/deviations/", records.deviation_list, name="deviations"),
    path("quality/deviations/new/", records.deviation_new, name="deviation-new"),
    path("quality/deviations/<int:pk>/", records.deviation_detail, name="deviation"),
    path(
        "quality/alarms/<int:pk>/deviation/",
        records.deviation_from_alarm,
        name="deviation-from-alarm",
    ),
    path(
        "quality/deviations/<int:pk>/classify/",
        records.deviation_classify,
        name="deviation-classify",
    ),
    path(
        "quality/deviations/<int:pk>/investigate/",
        records.deviation_investigate,
        name="deviation-investigate",
    ),
    path("quality/deviations/<int:pk>/close/", records.deviation_close, name="deviation-close"),
    path("quality/deviations/<int:pk>/capa/", records.capa_new, name="capa-new"),
    path("quality/capa/<int:pk>/", records.capa_detail, name="capa"),
    path("quality/capa/<int:pk>/actions/", records.capa_action_new, name="capa-action-new"),
    path(
        "quality/capa/<int:pk>/effectiveness/",
        records.capa_effectiveness,
        name="capa-effectiveness",
    ),
    path("quality/capa-actions/<int:pk>/done/", records.capa_action_done, name="capa-action-done"),
    path("quality/batches/<int:pk>/review/", records.batch_review, name="batch-review"),
    path("quality/batches/<int:pk>/lims/", records.batch_lims, name="batch-lims"),
    path("quality/batches/<int:pk>/dispose/", records.batch_dispose, name="batch-dispose"),
    path("quality/batches/<int:pk>/coa.pdf", records.batch_coa, name="batch-coa"),
    path(
        "quality/batches/<int:pk>/disposition.pdf",
        records.batch_disposition_report,
        name="batch-disposition-report",
    ),
    path(
        "quality/dispositions/<int:pk>/sponsor/",
        records.disposition_sponsor,
        name="disposition-sponsor",
    ),
]
