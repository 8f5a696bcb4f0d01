"""The signed custody digests, for agencies to download and keep (incidents/custody_digests.py).

Every signed-in user and every agency key may read them: a digest holds weapon ids, event
counts and keyed hashes, nothing of the records themselves. Each read is audited.
"""

from django.http import FileResponse, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.reverse import reverse

from armsmonitor.openapi import DETAIL_ERRORS, FORBIDDEN, THROTTLED, UNAUTHENTICATED
from incidents.custody_digests import (
    NAME,
    digest_directory,
    digest_names,
    digest_path,
    public_key_pem,
)
from incidents.ogc.views import ErrorsAsJSON
from organisations.audit import record_read

NAME_PATTERN = NAME.pattern.removeprefix("^").removesuffix("$")
NAME_PARAMETER = OpenApiParameter(
    "name", OpenApiTypes.STR, OpenApiParameter.PATH, pattern=NAME.pattern
)
DIGEST_ENTRY = inline_serializer(
    "CustodyDigest",
    {
        "name": serializers.CharField(),
        "size": serializers.IntegerField(),
        "url": serializers.URLField(),
        "signature_url": serializers.URLField(),
    },
    many=True,
)


class CustodyDigestViewSet(viewsets.ViewSet):
    """The daily signed digests of the chains of custody's heads, and the public key that
    verifies them."""

    lookup_field = "name"
    lookup_value_regex = NAME_PATTERN
    renderer_classes = [JSONRenderer]
    # Files answer in their own media type; DRF renders only the list and errors (as JSON).
    content_negotiation_class = ErrorsAsJSON

    @extend_schema(
        summary="The signed custody digests, oldest first",
        responses={200: DIGEST_ENTRY, 401: UNAUTHENTICATED, 403: FORBIDDEN, 429: THROTTLED},
    )
    def list(self, request):
        directory = digest_directory()
        entries = [
            {
                "name": name,
                "size": (directory / name).stat().st_size,
                "url": reverse("custody-digest-detail", [name], request=request),
                "signature_url": reverse("custody-digest-signature", [name], request=request),
            }
            for name in digest_names(directory)
        ]
        record_read(request, "custody_digest.list", records=len(entries))
        return Response(entries)

    @extend_schema(
        summary="One digest (JSON), exactly the bytes its signature covers",
        parameters=[NAME_PARAMETER],
        responses={(200, "application/json"): OpenApiTypes.OBJECT, **DETAIL_ERRORS},
    )
    def retrieve(self, request, name=None):
        return self._file(request, name, "application/json")

    @extend_schema(
        summary="The raw Ed25519 signature (64 bytes) of one digest",
        parameters=[NAME_PARAMETER],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, **DETAIL_ERRORS},
    )
    @action(detail=True, methods=["get"])
    def signature(self, request, name=None):
        return self._file(request, f"{name}.sig", "application/octet-stream")

    @extend_schema(
        operation_id="custody_digests_public_key",
        summary="The Ed25519 public key (PEM) that verifies the digests",
        responses={
            (200, "application/x-pem-file"): OpenApiTypes.STR,
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            429: THROTTLED,
        },
    )
    @action(detail=False, methods=["get"], url_path="public-key")
    def public_key(self, request):
        record_read(request, "custody_digest.public_key", records=0)
        return HttpResponse(public_key_pem(), content_type="application/x-pem-file")

    def _file(self, request, name: str, content_type: str) -> FileResponse:
        path = digest_path(name)
        if path is None:
            raise NotFound("No such digest.")
        record_read(request, "custody_digest.download", records=1, query=name)
        return FileResponse(path.open("rb"), content_type=content_type, filename=name)
