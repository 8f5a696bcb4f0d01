"""Registry entries written through the API by agencies: a key with the `registry:write`
scope records weapons its agency reports lost, stolen or diverted, and corrects its own
entries. The agency is the reporting body; the registry's services validate and write
(incidents/registry/services.py), all or nothing, and the hit check follows as for any
write.

Signed-in users are refused here: members of a mission record entries in the web form or
by import, where the mission's writer rules apply; the API is the agencies' way in."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from armsmonitor.openapi import (
    BAD_REQUEST,
    FORBIDDEN,
    NOT_FOUND,
    THROTTLED,
    UNAUTHENTICATED,
    Detail,
)
from incidents.api.idempotency import (
    IDEMPOTENCY_PARAMETERS,
    REPLAYED_HEADER,
    idempotency_key_claim,
    idempotency_key_of,
    idempotency_key_record,
    request_fingerprint,
)
from incidents.api.parsers import BoundedJSONParser
from incidents.api.serializers import flat_errors
from incidents.choices import WeaponComponent
from incidents.component_serials import MOST_COMPONENTS, SERIAL_LENGTH
from incidents.models import RegistryEntry
from incidents.registry.services import registry_entry_create, registry_entry_update
from organisations.access import AgencyPrincipal
from organisations.audit import RefusedRead
from organisations.choices import APIKeyScope

# The fields an agency gives; who reports (the agency), state and times the service sets.
WRITTEN_FIELDS = [
    "category",
    "make",
    "model",
    "calibre",
    "marks",
    "circumstance",
    "occurred_on",
    "place",
    "country",
    "contact",
    "releasability",
]


class RegistrySerialSerializer(serializers.Serializer):
    component = serializers.ChoiceField(choices=WeaponComponent.choices)
    serial = serializers.CharField(
        max_length=SERIAL_LENGTH,
        # The text form separates serials with these (incidents/component_serials.py).
        validators=[
            RegexValidator(r"^[^;:\n\r]*$", gettext_lazy("A serial holds no ; or : character."))
        ],
        help_text="As marked; `?` for a character that cannot be read, `*` for several.",
    )


class RegistryEntryWriteSerializer(serializers.ModelSerializer):
    serials = serializers.ListField(
        child=RegistrySerialSerializer(), allow_empty=False, max_length=MOST_COMPONENTS
    )

    class Meta:
        model = RegistryEntry
        fields = [*WRITTEN_FIELDS, "serials"]


class RegistryEntrySerializer(serializers.ModelSerializer):
    serials = RegistrySerialSerializer(many=True, read_only=True)

    class Meta:
        model = RegistryEntry
        fields = [
            "id",
            *WRITTEN_FIELDS,
            "serials",
            "reporting_body_kind",
            "reporting_body",
            "agency",
            "state",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class RegistryWriter(permissions.BasePermission):
    """Agencies' keys with the `registry:write` scope; before the body is read, so that a
    caller who may not write learns that first."""

    def has_permission(self, request, view) -> bool:
        principal = request.user
        if not isinstance(principal, AgencyPrincipal):
            self.message = _(
                "Registry entries are written through the API with an agency's key; members "
                "of a mission record them in the registry's form or by import."
            )
            return False
        if principal.api_key is None or not principal.api_key.has_scope(APIKeyScope.REGISTRY_WRITE):
            self.message = _(
                "This API key may not write registry entries: ask the platform's "
                "administrators to give it the scope %(scope)s."
            ) % {"scope": APIKeyScope.REGISTRY_WRITE.value}
            return False
        return True


WRITE_ERRORS = {
    400: BAD_REQUEST,
    401: UNAUTHENTICATED,
    403: OpenApiResponse(
        FORBIDDEN.response,
        description="Not an agency's key with the scope `registry:write`.",
    ),
    429: THROTTLED,
}


@extend_schema_view(
    create=extend_schema(
        summary="Record a weapon the agency reports lost, stolen or diverted",
        description=(
            "For an agency's key with the scope `registry:write`. The agency is the reporting "
            "body; the entry is its own, and it is checked for hits against the seizures on "
            "record as soon as it is written. All or nothing; errors name the field, serials "
            "by their place in the list: `serials[1].serial`.\n\n"
            "Every request carries an `Idempotency-Key`, as the incidents' writes do: the same "
            "key with the same body gets the stored answer back and writes nothing; with "
            "another body, 422. Keys are kept 24 hours, per API key."
        ),
        request=RegistryEntryWriteSerializer,
        parameters=IDEMPOTENCY_PARAMETERS,
        responses={
            201: RegistryEntrySerializer,
            **WRITE_ERRORS,
            422: OpenApiResponse(
                Detail, description="The Idempotency-Key was used for another request."
            ),
        },
    ),
    partial_update=extend_schema(
        summary="Correct one of the agency's own registry entries",
        description=(
            "The fields given are changed; `serials`, if given, replaces the entry's serials. "
            "Another agency's entry, or one the agency did not report, is 403 if the agency "
            "may read it and 404 otherwise. The entry is checked for hits again."
        ),
        request=RegistryEntryWriteSerializer(partial=True),
        responses={200: RegistryEntrySerializer, 404: NOT_FOUND, **WRITE_ERRORS},
    ),
)
class RegistryEntryViewSet(
    mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet
):
    """The registry's entries, as agencies write them."""

    permission_classes = [RegistryWriter]
    parser_classes = [BoundedJSONParser]
    serializer_class = RegistryEntryWriteSerializer
    lookup_value_regex = r"[0-9]+"
    http_method_names = ["post", "patch", "options"]
    queryset = RegistryEntry.objects.none()  # for the schema; reads start at get_queryset
    refused_reads = {"partial_update": RefusedRead("registry.detail", RegistryEntry)}

    def get_queryset(self):
        return RegistryEntry.objects.visible_to(self.request.user)

    def create(self, request, *args, **kwargs):
        key = idempotency_key_of(request)
        fingerprint = request_fingerprint(method="POST", path=request.path, data=request.data)
        with transaction.atomic():
            claim = idempotency_key_claim(user=request.user, key=key, fingerprint=fingerprint)
            if claim.replay:
                return Response(
                    claim.row.response_body,
                    status=claim.row.response_status,
                    headers={REPLAYED_HEADER: "true"},
                )
            fields, serials = self._asked(request.data)
            entry = self._written(
                registry_entry_create, entry=RegistryEntry(**fields), serials=serials
            )
            body = self._shown(entry)
            idempotency_key_record(
                claim=claim, response_status=status.HTTP_201_CREATED, response_body=body
            )
        return Response(body, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        with transaction.atomic():
            entry = self.get_object()
            fields, serials = self._asked(request.data, partial=True)
            if serials is None:  # kept as they are
                serials = list(entry.serials.values("component", "serial"))
            for name, value in fields.items():
                setattr(entry, name, value)
            entry = self._written(registry_entry_update, entry=entry, serials=serials)
        return Response(self._shown(entry))

    @staticmethod
    def _asked(data, *, partial: bool = False) -> tuple[dict, list[dict] | None]:
        asked = RegistryEntryWriteSerializer(data=data, partial=partial)
        if not asked.is_valid():
            raise ValidationError(flat_errors(asked.errors))
        fields = dict(asked.validated_data)
        serials = fields.pop("serials", None)
        return fields, [dict(row) for row in serials] if serials is not None else None

    def _written(self, write, **arguments) -> RegistryEntry:
        try:
            return write(by=self.request.user, **arguments)
        except DjangoPermissionDenied as refusal:
            raise PermissionDenied(str(refusal)) from refusal
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict) from error

    @staticmethod
    def _shown(entry: RegistryEntry) -> dict:
        entry = RegistryEntry.objects.prefetch_related("serials").get(pk=entry.pk)
        return RegistryEntrySerializer(entry).data
