"""The OpenAPI 3.0 definition of the OGC API (its `service-desc`). QGIS will not open an
OGC API – Features service without one, and reads the default and maximum `limit` from it."""

from incidents.ogc.parameters import DEFAULT_LIMIT, MAX_LIMIT

COLLECTION_ID = "incidents"


def _response(description: str, media_type: str, schema: dict | None = None) -> dict:
    return {
        "description": description,
        "content": {media_type: {"schema": schema or {"type": "object"}}},
    }


def _get(summary: str, operation_id: str, responses: dict, parameters=()) -> dict:
    errors = {
        code: {"$ref": f"#/components/responses/{name}"}
        for code, name in (
            ("400", "InvalidParameter"),
            ("401", "Unauthorised"),
            ("406", "NotAcceptable"),
        )
    }
    return {
        "get": {
            "summary": summary,
            "operationId": operation_id,
            "parameters": [{"$ref": "#/components/parameters/f"}, *parameters],
            "responses": {**responses, **errors},
        }
    }


def openapi_document(base_url: str) -> dict:
    """The definition, with `base_url` (the landing page's absolute URL) as its server."""
    items_path = f"/collections/{COLLECTION_ID}/items"
    json_ok = {"200": _response("OK", "application/json")}
    features_ok = {
        "200": _response(
            "A page of features, and a `next` link while more remain.",
            "application/geo+json",
            {"$ref": "#/components/schemas/featureCollectionGeoJSON"},
        )
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "ArmsMonitor – OGC API – Features",
            "version": "1.0.0",
            "description": (
                "Seizures and other incidents involving small arms and light weapons, as "
                "the caller may see them: records and coordinates follow the same access "
                "policy as the REST API, and locations are generalised to a 0.25° grid "
                "where the caller is not entitled to exact ones."
            ),
        },
        "servers": [{"url": base_url}],
        "security": [{"apiKey": []}, {"session": []}],
        "paths": {
            "/": _get("Landing page", "getLandingPage", json_ok),
            "/api": _get(
                "This API definition",
                "getAPI",
                {"200": _response("OK", "application/vnd.oai.openapi+json;version=3.0")},
            ),
            "/conformance": _get("Conformance classes", "getConformance", json_ok),
            "/collections": _get("Feature collections", "getCollections", json_ok),
            f"/collections/{COLLECTION_ID}": _get(
                "The incidents collection", "describeIncidents", json_ok
            ),
            items_path: _get(
                "Incidents",
                "getIncidents",
                features_ok,
                [
                    {"$ref": "#/components/parameters/bbox"},
                    {"$ref": "#/components/parameters/datetime"},
                    {"$ref": "#/components/parameters/limit"},
                    {"$ref": "#/components/parameters/cursor"},
                ],
            ),
            f"{items_path}/{{featureId}}": _get(
                "One incident",
                "getIncident",
                {
                    "200": _response("OK", "application/geo+json"),
                    "404": {"$ref": "#/components/responses/NotFound"},
                },
                [{"$ref": "#/components/parameters/featureId"}],
            ),
        },
        "components": {
            "securitySchemes": {
                "apiKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`Authorization: Api-Key <key>`",
                },
                "session": {"type": "apiKey", "in": "cookie", "name": "sessionid"},
            },
            "parameters": {
                "f": {
                    "name": "f",
                    "in": "query",
                    "required": False,
                    "description": "The format; JSON (GeoJSON for features) is the only one.",
                    "schema": {"type": "string", "enum": ["json"]},
                },
                "bbox": {
                    "name": "bbox",
                    "in": "query",
                    "required": False,
                    "description": (
                        "minx,miny,maxx,maxy in CRS84 (longitude, latitude); tested on the "
                        "locations as shown to the caller."
                    ),
                    "style": "form",
                    "explode": False,
                    "schema": {
                        "type": "array",
                        "minItems": 4,
                        "maxItems": 6,
                        "items": {"type": "number"},
                    },
                },
                "datetime": {
                    "name": "datetime",
                    "in": "query",
                    "required": False,
                    "description": (
                        "An RFC 3339 instant, or an interval (start/end, ../end, start/..) "
                        "on `occurred_at`; bounds are inclusive."
                    ),
                    "style": "form",
                    "explode": False,
                    "schema": {"type": "string"},
                },
                "limit": {
                    "name": "limit",
                    "in": "query",
                    "required": False,
                    "description": "Features per page; a larger value is read as the maximum.",
                    "style": "form",
                    "explode": False,
                    "schema": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": MAX_LIMIT,
                        "default": DEFAULT_LIMIT,
                    },
                },
                "cursor": {
                    "name": "cursor",
                    "in": "query",
                    "required": False,
                    "description": "Where the next page starts; follow the `next` link.",
                    "schema": {"type": "string"},
                },
                "featureId": {
                    "name": "featureId",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer"},
                },
            },
            "schemas": {
                "exception": {
                    "type": "object",
                    "required": ["code"],
                    "properties": {
                        "code": {"type": "string"},
                        "description": {"type": "string"},
                    },
                },
                "featureCollectionGeoJSON": {
                    "type": "object",
                    "required": ["type", "features"],
                    "properties": {
                        "type": {"type": "string", "enum": ["FeatureCollection"]},
                        "features": {"type": "array", "items": {"type": "object"}},
                        "links": {"type": "array", "items": {"type": "object"}},
                        "timeStamp": {"type": "string", "format": "date-time"},
                        "numberMatched": {"type": "integer", "minimum": 0},
                        "numberReturned": {"type": "integer", "minimum": 0},
                    },
                },
            },
            "responses": {
                name: {
                    "description": description,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/exception"}}
                    },
                }
                for name, description in (
                    ("InvalidParameter", "A query parameter is unknown or has a bad value."),
                    ("Unauthorised", "No credentials, or a key that is unknown or revoked."),
                    ("NotAcceptable", "None of the accepted media types can be produced."),
                    ("NotFound", "No such feature, or not one the caller may see."),
                )
            },
        },
    }
