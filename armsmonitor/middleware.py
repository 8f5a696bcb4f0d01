"""Responses that carry records are never kept by browsers or proxies."""

from django.utils.cache import add_never_cache_headers

# Answers here can hold records whoever asks (API keys authenticate inside DRF, after this
# middleware has looked at the request).
ALWAYS_PRIVATE_PREFIXES = ("/api/", "/ogc")


class NoStoreForRecordsMiddleware:
    """`Cache-Control: no-store` (with Django's never-cache headers) on every API answer and
    every page served to a signed-in user, unless the view chose its own caching (public
    boundaries, say). A shared workstation's back button or a proxy must not replay them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.has_header("Cache-Control"):
            return response
        user = getattr(request, "user", None)
        if request.path.startswith(ALWAYS_PRIVATE_PREFIXES) or (user and user.is_authenticated):
            add_never_cache_headers(response)
        return response


class BrokerUnavailableMiddleware:
    """A request that sends work to the workers while the broker (Redis) is down answers
    503 with a message, never 500. What the request wrote is kept: a job it created stays
    queued, and the job watchdog sends it once the broker is back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        import kombu.exceptions
        import redis
        from django.http import JsonResponse
        from django.shortcuts import render
        from django.utils.translation import gettext as _

        if not isinstance(
            exception, kombu.exceptions.OperationalError | redis.exceptions.ConnectionError
        ):
            return None
        message = _(
            "The task queue is unreachable, so the work cannot start now. What you asked "
            "for was kept and starts on its own once the queue is back; try again in a "
            "few minutes if it does not."
        )
        if request.path.startswith(ALWAYS_PRIVATE_PREFIXES):
            response = JsonResponse({"detail": message}, status=503)
        else:
            response = render(request, "broker_unavailable.html", {"message": message}, status=503)
        response["Retry-After"] = "60"
        return response
