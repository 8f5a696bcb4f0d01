from django.conf import settings
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from organisations.services import user_language_set


@require_POST
def language_choose(request):
    """Switch the interface language; for a signed-in user, remember it on the account."""
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        user_language_set(user=request.user, language=language)
    # Django's own view sets the cookie (for the sign-in page too) and redirects back.
    return set_language(request)
