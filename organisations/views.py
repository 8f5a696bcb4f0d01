from django.conf import settings
from django.contrib.auth.views import LogoutView
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


class SignOutView(LogoutView):
    """Sign out, and have the browser wipe what the platform left on the device: the
    offline entry form's outbox (records typed without a network, with their photos), the
    service worker and its cached pages (`Clear-Site-Data`). A lost phone must not hand
    records to its finder; the sign-out form warns first when records still wait to be
    sent (static/js/sign-out.js)."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        # Not "cookies": the language cookie may stay for the sign-in page.
        response["Clear-Site-Data"] = '"cache", "storage"'
        return response
