"""API authentication for agencies: `Authorization: Api-Key <key>`, never in the URL."""

from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from organisations.access import principal_for_api_key

KEYWORD = "Api-Key"


class AgencyAPIKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        keyword, _space, raw_key = header.partition(" ")
        if keyword != KEYWORD:
            return None
        principal = principal_for_api_key(raw_key.strip())
        if principal is None:
            raise exceptions.AuthenticationFailed(_("The API key is unknown, revoked or expired."))
        return principal, principal.api_key

    def authenticate_header(self, request) -> str:
        return KEYWORD
