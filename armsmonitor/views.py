from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from armsmonitor.health import platform_health


@require_GET
@never_cache
def healthz(request):
    report = platform_health()
    return JsonResponse(report, status=200 if report["ok"] else 503)


def home(request):
    # The counts of what waits for the reader come with every page (incidents' context
    # processor).
    return render(request, "home.html")
