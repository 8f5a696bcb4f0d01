from django.urls import path

from armsmonitor.job_status import JobStatusView
from geo.analyses import views

app_name = "analyses"
urlpatterns = [
    path("", views.analyses, name="list"),
    path("<int:pk>", views.analysis_run, name="run"),
    path(
        "<int:pk>.json",
        JobStatusView.as_view(readable=views.readable_runs),
        name="run-status",
    ),
    path("<int:pk>/cancel", views.analysis_run_stop, name="cancel"),
]
