"""Who reports and who reads: missions, contingents, agencies, memberships, agreements."""

import hashlib
import hmac
import secrets
import uuid

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey

from geo.countries import validate_country_code
from organisations.choices import (
    AgencyKind,
    APIKeyScope,
    ContingentKind,
    Releasability,
    Role,
    WebhookEventType,
)
from organisations.webhook_addresses import webhook_url_check


class Mission(models.Model):
    """A peace operation, e.g. MINUSCA in the Central African Republic."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    acronym = models.CharField(_("acronym"), max_length=20, unique=True)
    area_of_operations = models.MultiPolygonField(
        _("area of operations"), srid=4326, null=True, blank=True
    )
    host_countries = ArrayField(
        models.CharField(max_length=3, validators=[validate_country_code]),
        verbose_name=_("host countries (ISO 3166-1 alpha-3)"),
        default=list,
    )

    class Meta:
        ordering = ["acronym"]

    def __str__(self) -> str:
        return self.acronym


class Contingent(models.Model):
    """A unit contributed to a mission by one country."""

    mission = models.ForeignKey(Mission, on_delete=models.PROTECT, related_name="contingents")
    name = models.CharField(_("name"), max_length=200)
    contributing_country = models.CharField(
        _("contributing country"), max_length=3, validators=[validate_country_code]
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ContingentKind.choices)
    area_of_responsibility = models.MultiPolygonField(
        _("area of responsibility"), srid=4326, null=True, blank=True
    )

    class Meta:
        ordering = ["mission", "name"]
        constraints = [
            models.UniqueConstraint(fields=["mission", "name"], name="unique_contingent_name")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.mission})"


class Agency(models.Model):
    """A national or regional body that consumes data through the API."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=30, choices=AgencyKind.choices)
    country = models.CharField(
        _("country"),
        max_length=3,
        blank=True,
        validators=[validate_country_code],
        help_text=_("Empty for a regional organisation's secretariat."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = _("agencies")

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role in one mission, contingent or agency."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    mission = models.ForeignKey(
        Mission, on_delete=models.CASCADE, null=True, blank=True, related_name="memberships"
    )
    contingent = models.ForeignKey(
        Contingent, on_delete=models.CASCADE, null=True, blank=True, related_name="memberships"
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.CASCADE, null=True, blank=True, related_name="memberships"
    )
    regions = models.ManyToManyField(
        "geo.Region",
        blank=True,
        related_name="analyst_memberships",
        help_text=_("For regional analysts: the regions they read."),
    )

    class Meta:
        ordering = ["user", "role"]

    def __str__(self) -> str:
        scope = self.contingent or self.mission or self.agency or _("regions")
        return f"{self.user} — {self.get_role_display()} — {scope}"

    def clean(self) -> None:
        required_scope = {
            Role.REPORTER: ("contingent", self.contingent_id),
            Role.VERIFIER: ("mission", self.mission_id),
            Role.MISSION_ANALYST: ("mission", self.mission_id),
            Role.WPS_ANALYST: ("mission", self.mission_id),
            Role.AGENCY: ("agency", self.agency_id),
        }.get(self.role)
        if required_scope and not required_scope[1]:
            raise ValidationError(
                {
                    required_scope[0]: _("A %(role)s needs a %(scope)s.")
                    % {"role": self.get_role_display(), "scope": required_scope[0]}
                }
            )
        if self.contingent_id and self.mission_id and self.contingent.mission_id != self.mission_id:
            raise ValidationError({"contingent": _("The contingent belongs to another mission.")})


class SharingAgreement(models.Model):
    """What an agency may see: which missions and regions, from which releasability level,
    during which period, and whether exact coordinates are included."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="agreements")
    missions = models.ManyToManyField(Mission, blank=True, related_name="sharing_agreements")
    regions = models.ManyToManyField("geo.Region", blank=True, related_name="sharing_agreements")
    lowest_releasability = models.PositiveSmallIntegerField(
        _("lowest releasability granted"),
        choices=Releasability.choices,
        default=Releasability.PARTNER_AGENCIES,
        help_text=_("Records released at this level or wider are shared."),
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    exact_coordinates = models.BooleanField(_("exact coordinates included"), default=False)

    class Meta:
        ordering = ["agency", "-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__isnull=True)
                | models.Q(valid_until__gte=models.F("valid_from")),
                name="agreement_period_in_order",
            )
        ]

    def __str__(self) -> str:
        return f"{self.agency} from {self.valid_from}"


class AgencyAPIKey(AbstractAPIKey):
    """An agency's API key: only a hash and a public prefix are stored; the key is shown
    once, when created; it can be revoked and can expire."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="api_keys")
    # Empty: the key reads what its agency is released, and writes nothing (every key made
    # before scopes existed stays so).
    scopes = ArrayField(
        models.CharField(max_length=40, choices=APIKeyScope.choices),
        verbose_name=_("scopes"),
        default=list,
        blank=True,
        help_text=_("What the key may write, beyond reading what its agency is released."),
    )

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("agency API key")
        verbose_name_plural = _("agency API keys")

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


class APIAccess(models.Model):
    """One pull of data through the API: who, when, what query, how many records."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, null=True, blank=True)
    api_key = models.ForeignKey(AgencyAPIKey, on_delete=models.PROTECT, null=True, blank=True)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    query = models.TextField(blank=True)
    records = models.PositiveIntegerField(default=0)
    remote_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("API access")
        verbose_name_plural = _("API accesses")

    def __str__(self) -> str:
        return f"{self.agency or self.user} {self.method} {self.path} ({self.records})"


class UserPreferences(models.Model):
    """What a user chose for themselves, kept with the account so it follows them to any
    browser (a shared field laptop, a new workstation)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferences"
    )
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, blank=True
    )

    class Meta:
        verbose_name = _("user preferences")
        verbose_name_plural = _("user preferences")

    def __str__(self) -> str:
        return str(self.user)


class AuditEvent(models.Model):
    """One write, or one read of sensitive records: who, what, when, from where, how many.

    Append-only: a database trigger (migration 0004) refuses every UPDATE and DELETE, so
    not even the application's own role can rewrite the trail. Rows are written by
    `organisations.audit` only, inside the transaction of what they record."""

    class Kind(models.TextChoices):
        READ = "read", _("read")
        WRITE = "write", _("write")

    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    kind = models.CharField(_("kind"), max_length=5, choices=Kind.choices)
    # What happened, as a dotted name: "incident.detail", "incident.export.csv",
    # "photo.download", "api.incidents.list", "ogc.items", "incident.submit", "import" …
    action = models.CharField(_("action"), max_length=80, db_index=True)
    # Who: a user, or an agency through one of its keys, or a worker acting for a user.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("agency"),
    )
    # The key's public prefix, not a foreign key: a deleted key must not erase its trail.
    api_key_prefix = models.CharField(_("API key"), max_length=16, blank=True)
    actor = models.CharField(_("actor"), max_length=200)
    # The object acted on (its model and primary key), when there is one.
    object_type = models.CharField(_("object type"), max_length=60, blank=True)
    object_id = models.CharField(_("object id"), max_length=40, blank=True)
    records = models.PositiveIntegerField(_("records"), default=0)
    # From where: the request (method, path, query, address), or "worker" with no request.
    channel = models.CharField(_("channel"), max_length=10)
    method = models.CharField(_("method"), max_length=10, blank=True)
    path = models.CharField(_("path"), max_length=500, blank=True)
    query = models.TextField(_("query"), blank=True)
    remote_address = models.GenericIPAddressField(_("address"), null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor} {self.action} ({self.records})"


def _new_secret_salt() -> str:
    return secrets.token_hex(16)


class WebhookEndpoint(models.Model):
    """An agency's URL that is told of events by a signed POST (organisations/webhooks.py).

    Its signing secret is not stored: it is derived from WEBHOOK_SIGNING_KEY (the
    environment) and this row's id and salt (`signing_secret`), shown once to the
    administrator who creates the endpoint or rotates its secret (a new salt). Whoever
    reads the database alone cannot sign, nor read a secret to forge deliveries with."""

    agency = models.ForeignKey(
        Agency, on_delete=models.CASCADE, related_name="webhook_endpoints", verbose_name=_("agency")
    )
    url = models.URLField(
        _("URL"),
        max_length=500,
        help_text=_("https://, on a public address; redirects are not followed."),
    )
    event_types = ArrayField(
        models.CharField(max_length=60, choices=WebhookEventType.choices),
        verbose_name=_("events"),
        default=list,
        help_text=_("The events this endpoint is told of."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    secret_salt = models.CharField(max_length=64, default=_new_secret_salt, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["agency", "url"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return f"{self.agency}: {self.url}"

    def signing_secret(self) -> str:
        """The secret both sides key the signature with: HMAC-SHA256 of "<id>:<salt>" under
        WEBHOOK_SIGNING_KEY, in hex."""
        if not settings.WEBHOOK_SIGNING_KEY:
            raise ImproperlyConfigured("WEBHOOK_SIGNING_KEY must be set to sign webhooks.")
        if self.pk is None:
            raise ValueError("An endpoint has a secret once it is saved (its id is signed).")
        message = f"{self.pk}:{self.secret_salt}".encode()
        return hmac.new(settings.WEBHOOK_SIGNING_KEY.encode(), message, hashlib.sha256).hexdigest()

    def clean(self) -> None:
        if not settings.WEBHOOK_SIGNING_KEY:
            raise ValidationError(
                _("Webhooks cannot be signed: WEBHOOK_SIGNING_KEY is not set on this server.")
            )
        if self.url:
            webhook_url_check(self.url, resolve=False)
        unknown = set(self.event_types) - set(WebhookEventType.values)
        if unknown:
            raise ValidationError(
                {"event_types": _("Unknown events: %(events)s.") % {"events": ", ".join(unknown)}}
            )


class WebhookDelivery(models.Model):
    """One event sent to one endpoint: the body exactly as signed, and how its sending went.

    The state is in the times: pending while neither `delivered_at` nor `given_up_at` is
    set. Only the delivery task writes them, with the row locked (`webhook_delivery_attempt`),
    so one delivery is POSTed successfully at most once."""

    id = models.UUIDField(_("delivery id"), primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("endpoint"),
    )
    event_type = models.CharField(_("event"), max_length=60, choices=WebhookEventType.choices)
    # The canonical JSON, exactly the bytes (UTF-8) that are signed and sent.
    body = models.TextField(_("body"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_status = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    given_up_at = models.DateTimeField(_("given up at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            # The overdue sweep reads pending deliveries only.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(delivered_at__isnull=True, given_up_at__isnull=True),
                name="webhook_delivery_pending",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(delivered_at__isnull=True) | models.Q(given_up_at__isnull=True),
                name="webhook_delivery_delivered_or_given_up",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.id}"

    @property
    def state(self) -> str:
        """ "delivered", "given up" or "pending" (translated, for the admin's list)."""
        if self.delivered_at:
            return str(_("delivered"))
        if self.given_up_at:
            return str(_("given up"))
        return str(_("pending"))
