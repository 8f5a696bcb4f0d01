from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from armsmonitor.health import platform_health
from incidents.selectors import work_waiting


@require_GET
@never_cache
def healthz(request):
    report = platform_health()
    return JsonResponse(report, status=200 if report["ok"] else 503)


def home(request):
    return render(request, "home.html", {"waiting": work_waiting(request.user)})
