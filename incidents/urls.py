from django.urls import path

from armsmonitor.job_status import JobStatusView
from incidents import views
from incidents.imports import views as import_views
from incidents.registry import views as registry_views

app_name = "incidents"
urlpatterns = [
    path("", views.incident_list, name="list"),
    path("new", views.incident_create, name="create"),
    path("waiting", views.waiting_for_me, name="waiting"),
    path("<int:pk>/", views.incident_detail, name="detail"),
    path("<int:pk>/edit", views.incident_edit, name="edit"),
    path("<int:pk>/submit", views.incident_submit, name="submit"),
    path("<int:pk>/verify", views.incident_verify, name="verify"),
    path("<int:pk>/return", views.incident_return, name="return"),
    path("<int:pk>/withdraw", views.incident_withdraw, name="withdraw"),
    path("<int:pk>/photos", views.photo_upload, name="photo-upload"),
    path("<int:pk>/custody", views.custody_record, name="custody"),
    path("<int:pk>/origins", views.origin_record, name="origin-record"),
    path("<int:pk>/traces", views.trace_send, name="trace-send"),
    path("<int:pk>/traces/<int:trace_pk>/answer", views.trace_answer, name="trace-answer"),
    path("<int:pk>/traces/<int:trace_pk>/progress", views.trace_progress, name="trace-progress"),
    path("photos/<int:pk>", views.photo_download, name="photo"),
    path("import/", import_views.import_upload, name="import"),
    path("import/<int:pk>", import_views.import_job, name="import-job"),
    path(
        "import/<int:pk>.json",
        JobStatusView.as_view(readable=import_views.own_import_jobs),
        name="import-job-status",
    ),
    path("import/template.<str:file_format>", import_views.import_template, name="import-template"),
    path("registry/", registry_views.registry_list, name="registry"),
    path("registry/new", registry_views.registry_create, name="registry-create"),
    path("registry/import", registry_views.registry_import, name="registry-import"),
    path("hits/", registry_views.hit_list, name="hits"),
    path("hits/<int:pk>/decide", registry_views.hit_decide_view, name="hit-decide"),
]
