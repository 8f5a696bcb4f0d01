from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from armsmonitor import views
from incidents import views as incident_views
from organisations.views import SignOutView, language_choose

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    # The offline entry form's service worker: at the root, for its scope.
    path("sw.js", incident_views.service_worker, name="service-worker"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", SignOutView.as_view(), name="logout"),
    path("language", language_choose, name="language_choose"),
    path("admin/", admin.site.urls),
    # The API's OpenAPI schema (YAML, or JSON with ?format=json) and its docs pages.
    path("api/v1/schema", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file of its own, so the
    # Content-Security-Policy needs no inline script for it.
    path(
        "api/v1/docs", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"
    ),
    path("api/v1/redoc", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("api/v1/", include("armsmonitor.api")),
    path("", include("incidents.ogc.urls")),
    path("geo/", include("geo.urls")),
    path("incidents/", include("incidents.urls")),
    path("notifications/", include("incidents.notification_urls")),
    path("analyses/", include("geo.analyses.urls")),
    path("map/", include("geo.map.urls")),
    path("reports/", include("reports.urls")),
    path("dashboard/", include("reports.dashboard.urls")),
]
