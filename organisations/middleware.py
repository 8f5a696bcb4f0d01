"""A signed-in user's stored language wins over the browser's cookie and headers."""

from django.utils import translation


class UserLanguageMiddleware:
    """Activate the language a signed-in user chose (UserPreferences.language).

    Runs after LocaleMiddleware and AuthenticationMiddleware: LocaleMiddleware picks a
    language from the cookie or Accept-Language first, and this overrides it for users who
    chose one, so their choice holds on any browser they sign in from.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = self._stored_language(request)
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)

    @staticmethod
    def _stored_language(request) -> str:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return ""
        preferences = getattr(user, "preferences", None)
        return preferences.language if preferences else ""
