from django.urls import path

from armsmonitor.job_status import JobStatusView
from geo import analysis_views

app_name = "analyses"
urlpatterns = [
    path("", analysis_views.analyses, name="list"),
    path("<int:pk>", analysis_views.analysis_run, name="run"),
    path(
        "<int:pk>.json",
        JobStatusView.as_view(readable=analysis_views.readable_runs),
        name="run-status",
    ),
    path("<int:pk>/cancel", analysis_views.analysis_run_stop, name="cancel"),
]
