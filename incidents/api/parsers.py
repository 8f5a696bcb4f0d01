"""The API's JSON parser, hardened against bodies built to break the parser."""

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, with a body nested thousands of levels deep answered 400 instead
    of a 500: Python's decoder recurses once per level and stops at the interpreter's limit
    (about a thousand) with a RecursionError, which DRF does not catch."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise ParseError(
                _("The JSON body nests arrays or objects about a thousand levels deep: refused.")
            ) from error
