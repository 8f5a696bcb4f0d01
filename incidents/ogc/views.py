"""OGC API – Features endpoints. DRF views for authentication (API key header or session)
and permissions, exactly as the REST API; responses are written here, because the standard
fixes media types and link shapes that DRF's renderers do not know."""

import json
from datetime import UTC
from urllib.parse import urlencode

import rules
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from rest_framework.exceptions import NotAcceptable, NotFound
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView, exception_handler

from incidents.models import Incident
from incidents.ogc.openapi import COLLECTION_ID, openapi_document
from incidents.ogc.parameters import (
    METADATA_PARAMETERS,
    InvalidParameter,
    check_known,
    items_query,
)
from incidents.ogc.selectors import collection_extent, feature_one, feature_page, ogc_incidents
from organisations.audit import RefusedRead
from organisations.services import api_access_record

JSON = "application/json"
GEOJSON = "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]


def ogc_exception_handler(exc, context):
    """DRF's handling (401 with WWW-Authenticate, 403, 404, …) in the standard's exception
    shape: {"code", "description"}."""
    response = exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "detail" in response.data:
        detail = response.data["detail"]
        response.data = {"code": getattr(detail, "code", "error"), "description": str(detail)}
    return response


class ErrorsAsJSON(BaseContentNegotiation):
    """DRF renders only errors here, always as JSON; success responses negotiate for
    themselves (`negotiate`), so an Accept of application/geo+json is no reason for DRF to
    refuse the request before it starts."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class CanListIncidents(BasePermission):
    def has_permission(self, request, view) -> bool:
        return bool(
            request.user
            and request.user.is_authenticated
            and rules.has_perm("incidents.list_incidents", request.user)
        )


class OGCView(APIView):
    renderer_classes = [JSONRenderer]
    content_negotiation_class = ErrorsAsJSON
    permission_classes = [IsAuthenticated]
    # Not in the REST API's generated schema: this API has its own definition (/ogc/api).
    schema = None
    # Media type matched against Accept -> Content-Type sent; the first is the default.
    offered = {JSON: JSON}

    def get_exception_handler(self):
        return ogc_exception_handler

    def check_parameters(self, request) -> None:
        check_known(request.query_params, METADATA_PARAMETERS)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.check_parameters(request)
        self.media_type = negotiate(request, self.offered)

    def url(self, name: str, *args) -> str:
        return self.request.build_absolute_uri(reverse(f"ogc:{name}", args=args))

    def respond(self, document: dict | str) -> HttpResponse:
        body = document if isinstance(document, str) else json.dumps(document)
        response = HttpResponse(body, content_type=self.media_type)
        patch_vary_headers(response, ["Accept"])
        return response


def negotiate(request, offered: dict[str, str]) -> str:
    """The Content-Type to answer with: `f=json` picks the default, else the Accept header
    does (no Accept header accepts anything)."""
    requested_format = request.query_params.get("f")
    if requested_format is not None:
        if requested_format != "json":
            raise InvalidParameter(
                _("f: the only format is json; got “%(f)s”.") % {"f": requested_format[:50]}
            )
        return next(iter(offered.values()))
    preferred = request.get_preferred_type(list(offered))
    if preferred is None:
        raise NotAcceptable(
            _("This resource is available as %(types)s.") % {"types": ", ".join(offered)}
        )
    return offered[preferred]


def link(href: str, rel: str, media_type: str, title: str = "") -> dict:
    return {"href": href, "rel": rel, "type": media_type, **({"title": title} if title else {})}


class LandingPageView(OGCView):
    def get(self, request):
        return self.respond(
            {
                "title": "ArmsMonitor",
                "description": _(
                    "Incidents involving small arms and light weapons, as you may see them."
                ),
                "links": [
                    link(self.url("landing"), "self", JSON, "This document"),
                    link(self.url("api"), "service-desc", OPENAPI, "The API definition"),
                    link(self.url("conformance"), "conformance", JSON, "Conformance classes"),
                    link(self.url("collections"), "data", JSON, "Feature collections"),
                ],
            }
        )


class ConformanceView(OGCView):
    def get(self, request):
        return self.respond({"conformsTo": CONFORMANCE})


class APIDefinitionView(OGCView):
    offered = {OPENAPI: OPENAPI, JSON: JSON}

    def get(self, request):
        return self.respond(openapi_document(self.url("landing")))


class CollectionsView(OGCView):
    permission_classes = [CanListIncidents]

    def get(self, request):
        return self.respond(
            {
                "links": [link(self.url("collections"), "self", JSON, "This document")],
                "collections": [self.describe_incidents()],
            }
        )

    def describe_incidents(self) -> dict:
        collection = {
            "id": COLLECTION_ID,
            "title": _("Incidents"),
            "description": _(
                "Seizures, caches, surrenders and other incidents involving small arms and "
                "light weapons. Locations are generalised to a 0.25° grid where you are not "
                "entitled to exact ones (location_is_exact false)."
            ),
            "itemType": "feature",
            "crs": [CRS84],
            "links": [
                link(self.url("collection", COLLECTION_ID), "self", JSON, "This collection"),
                link(self.url("items", COLLECTION_ID), "items", GEOJSON, "The incidents"),
            ],
        }
        extent = collection_extent(ogc_incidents(principal=self.request.user))
        if extent["bbox"] is not None:
            collection["extent"] = {
                "spatial": {"bbox": [[round(value, 6) for value in extent["bbox"]]], "crs": CRS84},
                "temporal": {
                    "interval": [[rfc3339(extent["start"]), rfc3339(extent["end"])]],
                    "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
                },
            }
        return collection


class CollectionView(CollectionsView):
    def get(self, request, collection_id: str):
        require_collection(collection_id)
        return self.respond(self.describe_incidents())


class ItemsView(OGCView):
    permission_classes = [CanListIncidents]
    offered = {GEOJSON: GEOJSON, JSON: JSON}

    def check_parameters(self, request) -> None:
        self.query = items_query(request.query_params)

    def get(self, request, collection_id: str):
        require_collection(collection_id)
        query = self.query
        incidents = ogc_incidents(principal=request.user, bbox=query.bbox, interval=query.interval)
        features, next_cursor = feature_page(incidents, limit=query.limit, after=query.cursor)
        api_access_record(request=request, records=len(features), what="ogc.items")
        links = [
            link(request.build_absolute_uri(), "self", self.media_type, "This page"),
            link(self.url("collection", COLLECTION_ID), "collection", JSON, "The collection"),
        ]
        if next_cursor is not None:
            following = request.query_params.copy()
            following["limit"] = str(query.limit)
            following["cursor"] = str(next_cursor)
            href = f"{self.url('items', COLLECTION_ID)}?{urlencode(following)}"
            links.append(link(href, "next", self.media_type, "The next page"))
        tail = {
            "numberMatched": incidents.count(),
            "numberReturned": len(features),
            "timeStamp": rfc3339(timezone.now()),
            "links": links,
        }
        # The features arrive as GeoJSON text from PostgreSQL; they are joined, not parsed.
        body = '{"type":"FeatureCollection","features":[' + ",".join(features) + "],"
        return self.respond(body + json.dumps(tail)[1:])


class ItemView(OGCView):
    permission_classes = [CanListIncidents]
    offered = {GEOJSON: GEOJSON, JSON: JSON}
    refused_reads = {"get": RefusedRead("ogc.item", Incident, id_kwarg="feature_id")}

    def get(self, request, collection_id: str, feature_id: str):
        require_collection(collection_id)
        if not (feature_id.isascii() and feature_id.isdigit() and len(feature_id) <= 18):
            raise NotFound()
        feature = feature_one(ogc_incidents(principal=request.user), pk=int(feature_id))
        if feature is None:
            raise NotFound()
        api_access_record(request=request, records=1, what="ogc.item")
        links = [
            link(self.url("item", COLLECTION_ID, feature_id), "self", self.media_type),
            link(self.url("collection", COLLECTION_ID), "collection", JSON, "The collection"),
        ]
        return self.respond(feature[:-1] + ',"links":' + json.dumps(links) + "}")


def require_collection(collection_id: str) -> None:
    if collection_id != COLLECTION_ID:
        raise NotFound(_("There is one collection: %(id)s.") % {"id": COLLECTION_ID})


def rfc3339(moment) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
