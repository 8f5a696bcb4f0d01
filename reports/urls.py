from django.urls import path

from armsmonitor.job_status import JobStatusView
from reports import views

app_name = "reports"
urlpatterns = [
    path("", views.reports, name="list"),
    path("<int:pk>", views.report_detail, name="detail"),
    path("<int:pk>.json", JobStatusView.as_view(readable=views.readable_reports), name="status"),
    path("<int:pk>/files/<str:name>", views.report_file, name="file"),
]
