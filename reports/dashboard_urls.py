from django.urls import path

from reports import dashboard_views

app_name = "dashboard"
urlpatterns = [
    path("", dashboard_views.dashboard, name="index"),
]
