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
