"""Trace requests (ISACS 05.31, International Tracing Instrument): one weapon, one serial,
sent to a State or manufacturer, and what became of it. Re-exported by incidents.models.

Which standard field each column holds: docs/standards/isacs-05-31-tracing.md.
"""

from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.db.models import Value
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from geo.countries import validate_country_code
from incidents.choices import (
    TraceConfidentiality,
    TraceFailureReason,
    TraceStatus,
    TraceUrgency,
)

# (Also named by migration 0020_trace_requests_isacs, as this module's.)
from incidents.component_serials import validate_component_serials
from incidents.querysets import TraceRequestQuerySet


def trace_refusal(weapon) -> dict[str, str] | None:
    """Why no trace request may concern this weapon item, by field, or None. One serial per
    request (ISACS 05.31): an item standing for several weapons is not traced as one, since
    one answer would then stand for many arms."""
    if weapon.quantity > 1:
        return {
            "weapon": gettext(
                "This item stands for %(quantity)d weapons (quantity %(quantity)d): a trace "
                "request concerns one weapon with one serial number. Record each weapon as "
                "an item of quantity 1, then trace it."
            )
            % {"quantity": weapon.quantity}
        }
    return None


class TraceRequest(models.Model):
    """A request to a State or manufacturer to trace one weapon to its point of diversion
    (ISACS 05.31; ITI paragraph 17), its acknowledgement, reminders and answer. A request
    concerns one weapon with one serial: never an item of quantity above one
    (incidents.services.trace_request_send). A follow-up (to the exporter after the
    manufacturer, to the importer after the exporter) `follows` the request it continues."""

    weapon = models.ForeignKey(
        "incidents.WeaponItem", on_delete=models.CASCADE, related_name="trace_requests"
    )
    follows = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_ups",
        verbose_name=_("follows up the request"),
        help_text=_(
            "The earlier request on the same weapon that this one continues (manufacturer, "
            "then exporter, then importer)."
        ),
    )
    reference = models.CharField(
        _("requesting authority's reference"), max_length=100, blank=True, db_default=""
    )
    addressee = models.CharField(_("addressed to"), max_length=200)
    addressee_country = models.CharField(
        _("country of the addressee"),
        max_length=3,
        blank=True,
        db_default="",
        validators=[validate_country_code],
    )
    # Database defaults on every column added for ISACS 05.31 (migration 0020), so that
    # writers in SQL that name only the older columns (the benchmark, bulk loads) still work.
    # National points of contact (ITI paragraphs 25-27; ISACS 05.31): who asked and who
    # was asked, so that the answer and the reminders reach the right desk.
    requester_contact_name = models.CharField(
        _("requesting point of contact: name"), max_length=200, blank=True, db_default=""
    )
    requester_contact_organisation = models.CharField(
        _("requesting authority"), max_length=200, blank=True, db_default=""
    )
    requester_contact_email = models.EmailField(
        _("requesting point of contact: email"), blank=True, db_default=""
    )
    requester_contact_phone = models.CharField(
        _("requesting point of contact: telephone"), max_length=50, blank=True, db_default=""
    )
    addressee_contact_name = models.CharField(
        _("addressee's point of contact: name"), max_length=200, blank=True, db_default=""
    )
    addressee_contact_organisation = models.CharField(
        _("addressee's point of contact: organisation"), max_length=200, blank=True, db_default=""
    )
    addressee_contact_email = models.EmailField(
        _("addressee's point of contact: email"), blank=True, db_default=""
    )
    addressee_contact_phone = models.CharField(
        _("addressee's point of contact: telephone"), max_length=50, blank=True, db_default=""
    )
    # What the request says (ITI paragraph 17).
    illicit_nature = models.TextField(
        _("illicit nature of the weapon"),
        blank=True,
        db_default="",
        help_text=_("Why the weapon is held to be illicit (how it was found, seized or used)."),
    )
    legal_basis = models.TextField(
        _("legal basis of the request"),
        blank=True,
        db_default="",
        help_text=_("The law, resolution or agreement under which the trace is requested."),
    )
    intended_use = models.TextField(
        _("intended use of the information"),
        blank=True,
        db_default="",
        help_text=_("What the information will be used for (investigation, embargo monitoring…)."),
    )
    confidentiality = models.CharField(
        _("confidentiality"),
        max_length=25,
        choices=TraceConfidentiality.choices,
        default=TraceConfidentiality.LAW_ENFORCEMENT,
        db_default=TraceConfidentiality.LAW_ENFORCEMENT,
    )
    urgency = models.CharField(
        _("urgency"),
        max_length=10,
        choices=TraceUrgency.choices,
        default=TraceUrgency.ROUTINE,
        db_default=TraceUrgency.ROUTINE,
    )
    # The identification sent: the weapon's serial as written in the request, and the
    # serials of its components.
    serial_number_sent = models.CharField(
        _("serial number sent"), max_length=60, blank=True, db_default=""
    )
    component_serials = models.JSONField(
        _("component serial numbers sent"),
        default=list,
        db_default=Value([], output_field=models.JSONField()),
        blank=True,
        validators=[validate_component_serials],
        help_text=_('A list of {"component": "barrel", "serial": "A123"}.'),
    )
    photos_sent = models.ManyToManyField(
        "incidents.Photo",
        blank=True,
        related_name="trace_requests",
        verbose_name=_("photos sent"),
    )
    sent_on = models.DateField(_("sent on"))
    response_due_on = models.DateField(_("answer due by"), null=True, blank=True)
    acknowledged_on = models.DateField(_("acknowledged on"), null=True, blank=True)
    reminder_sent_on = models.DateField(_("reminder sent on"), null=True, blank=True)
    answered_on = models.DateField(_("answered on"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=TraceStatus.choices, default=TraceStatus.SENT
    )
    failure_reason = models.CharField(
        _("reason the trace failed"),
        max_length=20,
        choices=TraceFailureReason.choices,
        blank=True,
        db_default="",
    )
    failure_detail = models.TextField(_("failure: details"), blank=True, db_default="")
    forwarded_to = models.CharField(
        _("forwarded to"),
        max_length=200,
        blank=True,
        db_default="",
        help_text=_("The State or manufacturer the addressee passed the request on to."),
    )
    # The answer (read by the flow triggers of migrations 0008 and 0012: diversion_established,
    # diversion_country, diversion_point, transit_countries, answered_on, sent_on).
    diversion_established = models.BooleanField(_("point of diversion established"), default=False)
    diversion_country = models.CharField(
        _("country of diversion"), max_length=3, blank=True, validators=[validate_country_code]
    )
    diversion_point = models.PointField(_("point of diversion"), srid=4326, null=True, blank=True)
    last_legal_end_user = models.CharField(_("last legal end user"), max_length=200, blank=True)
    transit_countries = ArrayField(
        models.CharField(max_length=3, validators=[validate_country_code]),
        verbose_name=_("transit countries (ISO 3166-1 alpha-3)"),
        default=list,
        blank=True,
        help_text=_(
            "The countries the weapon crossed between its diversion and its seizure, where "
            "the trace established them."
        ),
    )

    history = HistoricalRecords(m2m_fields=[photos_sent])

    objects = TraceRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-sent_on", "-id"]

    def __str__(self) -> str:
        return f"Trace of {self.weapon} to {self.addressee}"

    def chain(self) -> list["TraceRequest"]:
        """Every request of this one's chain, from the first (say, to the manufacturer) to
        the last follow-up, each after the one it follows (follow-ups of one request by date
        sent): the manufacturer → exporter → importer sequence as it was followed."""
        root, seen = self, {self.pk}
        while root.follows_id is not None and root.follows_id not in seen:
            root = TraceRequest.objects.get(pk=root.follows_id)
            seen.add(root.pk)
        # The rest of the chain in one query: every trace of the weapon, then walked.
        by_parent: dict[int | None, list[TraceRequest]] = {}
        for trace in TraceRequest.objects.filter(weapon_id=self.weapon_id).order_by(
            "sent_on", "id"
        ):
            by_parent.setdefault(trace.follows_id, []).append(trace)
        ordered, stack, visited = [], [root], set()
        while stack:
            trace = stack.pop()
            if trace.pk in visited:
                continue
            visited.add(trace.pk)
            ordered.append(trace)
            stack.extend(reversed(by_parent.get(trace.pk, [])))
        return ordered
