"""Pages of API lists: a bad paging parameter is a 400 naming it, never silently ignored;
an empty one (`?limit=`) is not given, as for every filter (the schema says
`allowEmptyValue`)."""

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination, LimitOffsetPagination

MAX_PAGE_SIZE = 1000


def _whole_number(request, name: str, *, minimum: int, maximum: int | None, default):
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or value < minimum or (maximum is not None and value > maximum):
        upper = _(" and %(maximum)d") % {"maximum": maximum} if maximum is not None else ""
        raise ValidationError(
            {name: [_("Give a whole number from %(minimum)d%(upper)s.") % locals()]}
        )
    return value


class LimitOffsetPages(LimitOffsetPagination):
    max_limit = MAX_PAGE_SIZE

    def get_limit(self, request):
        return _whole_number(
            request,
            self.limit_query_param,
            minimum=1,
            maximum=self.max_limit,
            default=self.default_limit,
        )

    def get_offset(self, request):
        return _whole_number(request, self.offset_query_param, minimum=0, maximum=None, default=0)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.limit_query_param: {"minimum": 1, "maximum": self.max_limit},
            self.offset_query_param: {"minimum": 0},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters


class CursorPages(CursorPagination):
    """Cursor pages in a fixed order. A cursor names a page, as an id names a record: one
    the server did not hand out (in `next` or `previous`) names no page, a 404 "Invalid
    cursor" (the schema documents it). Not a 400: which strings are cursors is the server's
    to know, so the schema cannot tell a client, and a schema-valid request is never
    refused as malformed."""

    page_size_query_param = "limit"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request):
        return _whole_number(
            request,
            self.page_size_query_param,
            minimum=1,
            maximum=self.max_page_size,
            default=self.page_size,
        )

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update({"minimum": 1, "maximum": self.max_page_size})
            if parameter["name"] == self.cursor_query_param:
                parameter["description"] = _(
                    "The page after or before another: the cursor in a page's `next` or "
                    "`previous`. Any other string names no page (404)."
                )
        return parameters
