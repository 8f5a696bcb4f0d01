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


def document_unknown_cursors(result, generator, request, public):
    """Postprocessing hook: a list paged by cursor answers 404 to a cursor it did not hand
    out (armsmonitor.pagination.CursorPages)."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            names = {parameter["name"] for parameter in operation.get("parameters", [])}
            if "cursor" in names:
                operation["responses"].setdefault(
                    "404",
                    {
                        "description": "No such page: a cursor the server did not hand out.",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/ErrorDetail"}
                            }
                        },
                    },
                )
    return result


# The incident list's parameters that are not filters (geo.analyses.services.PRESENTATION_KEYS reads
# and drops some of them in an analysis's filter; the schema leaves them all out).
NOT_FILTERS = {"limit", "offset", "cursor", "ordering", "page", "format"}


def _as_filter_value(schema: dict) -> dict:
    """A query parameter's schema as a value in a JSON filter: strings only (the service
    reads the filter as it would read the query string), never empty (to set no filter,
    leave it out)."""
    if schema.get("type") == "integer" and "enum" in schema:
        return {"type": "string", "enum": [str(value) for value in schema["enum"]]}
    if schema.get("type") == "integer":
        return {"type": "string", "pattern": "^-?[0-9]+$"}
    if schema.get("type") == "boolean":
        return {"type": "string", "enum": ["true", "false"]}
    value = {key: item for key, item in schema.items() if key not in ("example", "title")}
    if "enum" not in value:
        value["minLength"] = max(1, value.get("minLength", 0))
        # A text field refuses NUL characters (a query string cannot carry one).
        value.setdefault("pattern", "^[^\\u0000]*$")
    return value


def document_analysis_filter(result, generator, request, public):
    """Postprocessing hook: an analysis's `filter` takes the incident list's filters, each
    as that list's query parameter takes it (a list where the list takes several values),
    and nothing else (geo.api.serializers.IncidentFilterField refuses unknown names)."""
    listing = result.get("paths", {}).get("/api/v1/incidents", {}).get("get")
    start = result.get("components", {}).get("schemas", {}).get("AnalysisStartRequest")
    if listing is None or start is None:
        return result
    properties = {}
    for parameter in listing.get("parameters", []):
        if parameter.get("in") != "query" or parameter["name"] in NOT_FILTERS:
            continue
        schema = parameter["schema"]
        if schema.get("type") == "array":
            one = _as_filter_value(schema["items"])
            properties[parameter["name"]] = {
                "oneOf": [one, {"type": "array", "items": one}],
            }
        else:
            properties[parameter["name"]] = _as_filter_value(schema)
        if parameter.get("description"):
            properties[parameter["name"]]["description"] = parameter["description"]
    field = start["properties"]["filter"]
    field.pop("additionalProperties", None)
    field["properties"] = dict(sorted(properties.items()))
    field["additionalProperties"] = False
    return result


def document_empty_filters(result, generator, request, public):
    """Postprocessing hook: a filter given empty (`?country=`) is not set, as the HTML list's
    form sends it; say so (`allowEmptyValue`) for every query parameter. And a text
    parameter refuses a NUL character (Django's form fields do): say that too."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query":
                    if not parameter.get("required"):  # a required one is never "not set"
                        parameter["allowEmptyValue"] = True
                    schema = parameter.get("schema", {})
                    if schema.get("type") == "array":
                        schema = schema.get("items", {})
                    free = not {"pattern", "enum", "format"} & set(schema)
                    if schema.get("type") == "string" and free:
                        schema["pattern"] = "^[^\\u0000]*$"
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
