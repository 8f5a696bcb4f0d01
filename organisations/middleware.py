"""A signed-in user's stored language wins over the browser's cookie and headers; refused
reads of one record leave an audit row."""

from django.utils import translation

from organisations.audit import RefusedRead, record_refused


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


class RefusedReadsAuditMiddleware:
    """A 404 from a view that reads one record (it declares a `RefusedRead`) leaves an audit
    row with the id asked for and who asked.

    Done here, on the response, rather than in each view: the HTML views read inside a
    transaction that a 404 rolls back (with any row written in it), DRF turns the 404 into
    a response before any view code sees it, and one place cannot be forgotten by the
    next detail view. Runs after AuthenticationMiddleware; for the API, DRF puts the
    principal it authenticated (a user or an agency's key) on the request it wraps."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        asked = getattr(request, "_refused_read", None)
        if response.status_code == 404 and asked is not None:
            read, object_id = asked
            record_refused(request, read, object_id=object_id)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        read = self.declared_read(request, view_func)
        if read is not None and read.id_kwarg in view_kwargs:
            request._refused_read = (read, str(view_kwargs[read.id_kwarg]))

    @staticmethod
    def declared_read(request, view_func) -> RefusedRead | None:
        declared = getattr(view_func, "refused_read", None)
        if declared is not None:  # a function view (refused_reads_audited)
            return declared
        view_class = getattr(view_func, "cls", None)  # a DRF view: by action or by method
        reads = getattr(view_class, "refused_reads", None)
        if not reads:
            return None
        method = request.method.lower()
        method = "get" if method == "head" else method
        actions = getattr(view_func, "actions", None) or {}
        return reads.get(actions.get(method, method))
