"""What the OpenAPI schema says beyond what drf-spectacular reads from the code: the API-key
security scheme, the shape of errors, and GeoJSON."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers


class AgencyAPIKeyScheme(OpenApiAuthenticationExtension):
    target_class = "organisations.api.authentication.AgencyAPIKeyAuthentication"
    name = "agencyApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "An agency's key, in the header `Authorization: Api-Key <key>` (never in the "
                "URL). Unknown, revoked or expired keys get 401."
            ),
        }


# --- errors -----------------------------------------------------------------------------

FIELD_ERRORS_SCHEMA = {
    "type": "object",
    "description": "Each faulty field (or `non_field_errors`) with its messages.",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
    "example": {"bbox": ["Give four numbers: minx,miny,maxx,maxy."]},
}

Detail = inline_serializer("ErrorDetail", fields={"detail": serializers.CharField()})

RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before the next request.",
        "schema": {"type": "integer"},
    }
}


def _detail(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=Detail, description=description)


BAD_REQUEST = OpenApiResponse(
    response={
        "oneOf": [
            FIELD_ERRORS_SCHEMA,
            {
                "type": "object",
                "description": "A body that could not be read at all.",
                "properties": {"detail": {"type": "string"}},
                "required": ["detail"],
            },
        ]
    },
    description=_("Invalid input: each faulty field named, or a body that is not JSON."),
)
UNAUTHENTICATED = _detail(_("No credentials, or an unknown, revoked or expired API key."))
FORBIDDEN = _detail(_("The caller's roles do not allow this."))
NOT_FOUND = _detail(_("No such record, or not one the caller may see."))
THROTTLED = _detail(_("Too many requests; wait `Retry-After` seconds."))

READ_ERRORS = {400: BAD_REQUEST, 401: UNAUTHENTICATED, 403: FORBIDDEN, 429: THROTTLED}
DETAIL_ERRORS = {401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND, 429: THROTTLED}


def document_retry_after(result, generator, request, public):
    """Postprocessing hook: every 429 answer carries a `Retry-After` header."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            throttled = operation.get("responses", {}).get("429")
            if throttled is not None:
                throttled["headers"] = RETRY_AFTER
    return result


def document_empty_filters(result, generator, request, public):
    """Postprocessing hook: a filter given empty (`?country=`) is not set, as the HTML list's
    form sends it; say so (`allowEmptyValue`) for every query parameter."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query":
                    parameter["allowEmptyValue"] = True
    return result


# --- GeoJSON ----------------------------------------------------------------------------

POINT_SCHEMA = {
    "type": "object",
    "description": "A GeoJSON point, WGS 84 (longitude, latitude).",
    "properties": {
        "type": {"type": "string", "enum": ["Point"]},
        "coordinates": {
            "type": "array",
            "items": {"type": "number"},
            "minItems": 2,
            "maxItems": 2,
        },
    },
    "required": ["type", "coordinates"],
}

AREA_SCHEMA = {
    "type": "object",
    "description": "A GeoJSON MultiPolygon, WGS 84.",
    "properties": {
        "type": {"type": "string", "enum": ["MultiPolygon"]},
        "coordinates": {"type": "array", "items": {"type": "array"}},
    },
    "required": ["type", "coordinates"],
}

FEATURE_COLLECTION_SCHEMA = {
    "type": "object",
    "description": "A GeoJSON FeatureCollection, WGS 84.",
    "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "features": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "type": {"type": "string", "enum": ["Feature"]},
                    "id": {"oneOf": [{"type": "integer"}, {"type": "string"}]},
                    "geometry": {"type": "object", "nullable": True},
                    "properties": {"type": "object", "nullable": True},
                },
                "required": ["type", "geometry", "properties"],
            },
        },
    },
    "required": ["type", "features"],
}
