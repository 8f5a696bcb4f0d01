"""Request rates of the API, per agency API key and per signed-in user (DRF throttles).

The rates come from the environment (settings `API_RATE_AGENCY`, `API_RATE_USER`); an
answer over the rate is a 429 with a `Retry-After` header."""

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from organisations.access import AgencyPrincipal


class _ConfiguredRate(SimpleRateThrottle):
    def get_rate(self):
        # Read at each request, so a changed setting (and a test) takes effect.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)


class AgencyKeyRateThrottle(_ConfiguredRate):
    """One budget per API key (an agency with two keys has two budgets)."""

    scope = "agency"

    def get_cache_key(self, request, view):
        principal = request.user
        if not isinstance(principal, AgencyPrincipal) or principal.api_key is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": principal.api_key.pk}


class UserRateThrottle(_ConfiguredRate):
    """One budget per signed-in user."""

    scope = "user"

    def get_cache_key(self, request, view):
        user = request.user
        if isinstance(user, AgencyPrincipal) or not user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": user.pk}
