from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from leaflet.admin import LeafletGeoAdmin
from rest_framework_api_key.admin import APIKeyModelAdmin

from organisations.choices import APIKeyScope, WebhookEventType
from organisations.models import (
    Agency,
    AgencyAPIKey,
    APIAccess,
    AuditEvent,
    Contingent,
    Membership,
    Mission,
    SharingAgreement,
    UserPreferences,
    WebhookDelivery,
    WebhookEndpoint,
)
from organisations.webhooks import (
    webhook_delivery_send_again,
    webhook_endpoint_secret_rotate,
    webhook_event_send,
)


@admin.register(Mission)
class MissionAdmin(LeafletGeoAdmin):
    list_display = ["acronym", "name", "host_countries"]
    search_fields = ["acronym", "name"]


@admin.register(Contingent)
class ContingentAdmin(LeafletGeoAdmin):
    list_display = ["name", "mission", "contributing_country", "kind"]
    list_filter = ["mission", "kind", "contributing_country"]
    search_fields = ["name", "contributing_country"]


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "country", "is_active"]
    list_filter = ["kind", "is_active", "country"]
    search_fields = ["name"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "mission", "contingent", "agency"]
    list_filter = ["role", "mission", "agency"]
    search_fields = ["user__username", "user__email", "contingent__name", "agency__name"]
    autocomplete_fields = ["user", "mission", "contingent", "agency"]
    filter_horizontal = ["regions"]


@admin.register(SharingAgreement)
class SharingAgreementAdmin(admin.ModelAdmin):
    list_display = [
        "agency",
        "lowest_releasability",
        "valid_from",
        "valid_until",
        "exact_coordinates",
    ]
    list_filter = ["lowest_releasability", "exact_coordinates", "agency"]
    search_fields = ["agency__name"]
    filter_horizontal = ["missions", "regions"]


class AgencyAPIKeyForm(forms.ModelForm):
    # Checkboxes rather than the array's comma-separated text: a scope mistyped is a key
    # that silently cannot write.
    scopes = forms.MultipleChoiceField(
        label=_("scopes"),
        choices=APIKeyScope.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=AgencyAPIKey._meta.get_field("scopes").help_text,
    )

    class Meta:
        model = AgencyAPIKey
        fields = ["name", "agency", "scopes", "expiry_date", "revoked"]


@admin.register(AgencyAPIKey)
class AgencyAPIKeyAdmin(APIKeyModelAdmin):
    """Shows a new key once, on creation; stores only its hash. Scopes are set when the key
    is made, and may be changed later (a key's holder cannot)."""

    form = AgencyAPIKeyForm

    list_display = [*APIKeyModelAdmin.list_display, "agency", "scopes"]
    list_filter = [*APIKeyModelAdmin.list_filter, "agency"]
    search_fields = [*APIKeyModelAdmin.search_fields, "agency__name"]


@admin.register(APIAccess)
class APIAccessAdmin(admin.ModelAdmin):
    list_display = ["at", "agency", "user", "method", "path", "records", "remote_address"]
    list_filter = ["agency", "method"]
    search_fields = ["path", "query", "user__username", "agency__name"]
    date_hierarchy = "at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit trail, read-only (the database refuses changes anyway)."""

    list_display = ["at", "kind", "action", "actor", "records", "channel", "remote_address"]
    list_filter = ["kind", "channel", "action"]
    search_fields = ["actor", "action", "path", "object_id"]
    date_hierarchy = "at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(UserPreferences)
class UserPreferencesAdmin(admin.ModelAdmin):
    list_display = ["user", "language"]
    list_filter = ["language"]
    search_fields = ["user__username"]


# --- Webhooks (organisations/webhooks.py, docs/clients/webhooks.md) --------------------


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(
        label=_("URL"),
        max_length=500,
        assume_scheme="https",
        help_text=WebhookEndpoint._meta.get_field("url").help_text,
    )
    event_types = forms.MultipleChoiceField(
        label=_("events"),
        choices=WebhookEventType.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["agency", "url", "event_types", "is_active"]


def _secret_shown_once(request: HttpRequest, endpoint: WebhookEndpoint, secret: str) -> None:
    # Shown in this message only: the secret is derived when signing, never stored.
    messages.warning(
        request,
        _(
            "The signing secret of %(endpoint)s, shown only now — give it to the agency over "
            "a channel you trust: %(secret)s"
        )
        % {"endpoint": endpoint, "secret": secret},
    )


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """An agency's webhook URLs. The signing secret is shown once, when the endpoint is
    added or its secret rotated."""

    form = WebhookEndpointForm
    list_display = ["agency", "url", "event_types", "is_active", "created_at"]
    list_filter = ["is_active", "agency"]
    search_fields = ["url", "agency__name"]
    actions = ["rotate_secret", "send_ping"]

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            _secret_shown_once(request, obj, obj.signing_secret())

    @admin.action(description=_("Rotate the signing secret"), permissions=["change"])
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            _secret_shown_once(
                request, endpoint, webhook_endpoint_secret_rotate(endpoint=endpoint, by=request)
            )

    @admin.action(
        description=_("Send a test ping (to the agency's endpoints that want pings)"),
        permissions=["change"],
    )
    def send_ping(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        sent = 0
        for agency in Agency.objects.filter(webhook_endpoints__in=queryset).distinct():
            sent += len(
                webhook_event_send(
                    agency=agency,
                    event_type=WebhookEventType.PING,
                    payload={"message": "A test delivery from ArmsMonitor."},
                )
            )
        messages.info(
            request,
            ngettext("%(count)d ping sent.", "%(count)d pings sent.", sent) % {"count": sent},
        )


class DeliveryStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("pending", _("pending")),
            ("delivered", _("delivered")),
            ("given_up", _("given up")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "pending":
            return queryset.filter(delivered_at__isnull=True, given_up_at__isnull=True)
        if self.value() == "delivered":
            return queryset.filter(delivered_at__isnull=False)
        if self.value() == "given_up":
            return queryset.filter(given_up_at__isnull=False)
        return queryset


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """Every delivery and how its sending went, read-only; a given-up one can be sent
    again (same id and body, attempts counted from zero)."""

    list_display = [
        "id",
        "endpoint",
        "event_type",
        "state",
        "attempts",
        "last_status",
        "created_at",
        "next_attempt_at",
        "delivered_at",
        "given_up_at",
    ]
    list_filter = [DeliveryStateFilter, "event_type", "endpoint__agency"]
    search_fields = ["id", "endpoint__url", "endpoint__agency__name"]
    date_hierarchy = "created_at"
    list_select_related = ["endpoint__agency"]
    actions = ["send_again"]

    @admin.display(description=_("state"))
    def state(self, delivery: WebhookDelivery) -> str:
        return delivery.state

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_send_again_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("organisations.change_webhookdelivery")

    @admin.action(description=_("Send again (given-up deliveries)"), permissions=["send_again"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        sent = sum(webhook_delivery_send_again(delivery=d, by=request) for d in queryset)
        skipped = queryset.count() - sent
        messages.info(
            request,
            ngettext("%(count)d delivery sent again.", "%(count)d deliveries sent again.", sent)
            % {"count": sent}
            + (
                " "
                + ngettext(
                    "%(count)d was not given up and was left alone.",
                    "%(count)d were not given up and were left alone.",
                    skipped,
                )
                % {"count": skipped}
                if skipped
                else ""
            ),
        )
