"""Entry forms: the incident with its map point, and its inline items."""

from django import forms
from django.contrib.gis.geos import Point
from django.utils.translation import gettext_lazy as _

from geo.core.borders import location_doubt
from geo.core.coordinates import parse_coordinates
from geo.countries import validate_country_code
from incidents.choices import (
    TRACE_OUTCOMES,
    CustodyEventKind,
    OriginKind,
    OriginMethod,
    PhotoSubject,
    TraceConfidentiality,
    TraceFailureReason,
    TraceStatus,
    TraceUrgency,
    coarser_precision,
    precision_of,
)
from incidents.component_serials import ComponentSerialsField
from incidents.imports.files import ImportFileError, check_import_content
from incidents.models import (
    AmmunitionItem,
    Incident,
    PersonsInvolved,
    Photo,
    TraceRequest,
    WeaponItem,
)
from incidents.selectors import incident_revision
from incidents.trace_requests import trace_refusal
from organisations.choices import Role
from organisations.models import Contingent


def _shown(field: forms.Field, value) -> str:
    """A form value as the reader reads it: a choice by its label."""
    prepared = field.prepare_value(value)
    if prepared in (None, ""):
        return "—"
    if isinstance(field, forms.ChoiceField):
        # (getattr: the stubs type `choices` more loosely than a ChoiceField holds it.)
        labels = {str(key): label for key, label in getattr(field, "choices", ())}
        return str(labels.get(str(prepared), prepared))
    return str(value)


class ModelDefaultsForm(forms.ModelForm):
    """A model form whose `defaulted` fields take the model's default when left out: fields
    added to the records (issue 19) after pages and scripts were written that do not send
    them."""

    defaulted: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.defaulted:
            self.fields[name].required = False

    def clean(self):
        cleaned = super().clean()
        for name in self.defaulted:
            if not cleaned.get(name):
                cleaned[name] = self._meta.model._meta.get_field(name).default
        return cleaned


# The seizure's legal justification and documented route (IAFQ), as the form, the API, the
# import and the exports name them.
SEIZURE_FIELDS = [
    "seizure_justification",
    "transport_mode",
    "route_departure_country",
    "route_transit_countries",
    "route_destination_country",
]


class IncidentForm(ModelDefaultsForm):
    defaulted = (
        "source_type",
        "information_credibility",
        "seizure_justification",
        "transport_mode",
    )

    coordinates = forms.CharField(
        label=_("Location"),
        max_length=100,
        help_text=_(
            "Click the map, or type latitude, longitude in decimal degrees "
            "(4.3671, 18.5837), degrees-minutes-seconds (4°22'01\"N 18°35'01\"E) or "
            "MGRS (34NBK3182283135)."
        ),
    )

    # The record's revision when the edit page was opened (incidents.selectors.incident_revision):
    # a save over a record changed since is refused (incidents.services.RecordChanged).
    opened_revision = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Incident
        fields = [
            "contingent",
            "kind",
            "occurred_at",
            "date_precision",
            "coordinates",
            "location_precision",
            "context",
            "actor_type",
            "actors",
            "narrative",
            "source",
            "source_type",
            "source_reliability",
            "information_credibility",
            "releasability",
            "gbv_link",
            "gbv_type",
            *SEIZURE_FIELDS,
            "external_reference",
        ]
        widgets = {
            "occurred_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            "narrative": forms.Textarea(attrs={"rows": 4}),
        }
        labels = {"occurred_at": _("Occurred at (UTC)")}

    def __init__(self, *args, reporter, **kwargs):
        super().__init__(*args, **kwargs)
        contingents = Contingent.objects.filter(
            memberships__user=reporter, memberships__role=Role.REPORTER
        ).select_related("mission")
        # Read once (the choices, the preselection and the map's countries).
        self.reporter_contingents = contingents
        self.fields["contingent"].queryset = contingents
        if not self.instance.pk and not self.is_bound and len(contingents) == 1:
            # A reporter of one contingent records for it (issue 21).
            self.initial["contingent"] = contingents[0].pk
        if self.instance.pk:
            self.fields["contingent"].disabled = True
            point = self.instance.location
            self.initial["coordinates"] = f"{point.y:.6f}, {point.x:.6f}"
            self.initial.setdefault("opened_revision", incident_revision(self.instance.pk))

    def changes_since_opened(self, current: Incident) -> list[tuple[str, str, str]]:
        """The fields on which this (valid) form and the record as it is now differ: (label,
        this form's value, the record's value), as the reader reads them."""
        now = type(self)(instance=current, reporter=None, initial={"opened_revision": ""})
        changes = []
        # The record's own fields (not a confirmation asked of this editor alone).
        for name in self._meta.fields or ():
            field = self.fields[name]
            if field.disabled:
                continue
            yours, theirs = self.cleaned_data.get(name), now.initial.get(name)
            if name == "coordinates":
                yours = f"{yours.latitude:.6f}, {yours.longitude:.6f}" if yours else ""
            if str(field.prepare_value(yours) or "") != str(field.prepare_value(theirs) or ""):
                changes.append((str(field.label), _shown(field, yours), _shown(field, theirs)))
        return changes

    def map_countries(self) -> list[str]:
        """The host countries of the missions this record may belong to: the entry form's
        map draws those alone (issue 21: the world's borders weighed 2.4 MB a load)."""
        if self.instance.pk:
            missions = {self.instance.mission}
        else:
            missions = {contingent.mission for contingent in self.reporter_contingents}
        return sorted({code for mission in missions for code in mission.host_countries})

    location_confirmed = forms.BooleanField(
        label=_("I confirm this location"),
        required=False,
        help_text=_(
            "Only when the form doubts the point (0, 0; latitude and longitude swapped; "
            "outside the mission's area or host countries) and it is right all the same."
        ),
    )

    def clean_route_departure_country(self):
        return self.cleaned_data["route_departure_country"].upper()

    def clean_route_destination_country(self):
        return self.cleaned_data["route_destination_country"].upper()

    def clean_route_transit_countries(self):
        codes = [code.upper() for code in self.cleaned_data["route_transit_countries"]]
        for code in codes:
            # Named here: the array's own message leaves the code out.
            validate_country_code(code)
        return codes

    def clean_coordinates(self):
        return parse_coordinates(self.cleaned_data["coordinates"])

    def clean(self):
        cleaned = super().clean()
        coordinates = cleaned.get("coordinates")
        contingent = cleaned.get("contingent") or getattr(self.instance, "contingent", None)
        if coordinates and contingent and not cleaned.get("location_confirmed"):
            # Never written silently: the reporter corrects the point or confirms it.
            doubt = location_doubt(
                longitude=coordinates.longitude,
                latitude=coordinates.latitude,
                host_countries=contingent.mission.host_countries,
                area_of_operations=contingent.mission.area_of_operations,
            )
            if doubt:
                self.add_error(
                    "coordinates",
                    _("%(doubt)s. Correct it, or tick “I confirm this location”.")
                    % {"doubt": doubt},
                )
        return cleaned

    def save(self, commit=True):
        if self.instance.pk and "coordinates" not in self.changed_data:
            # The point as stored. The form shows it to six decimals: writing that back would
            # record a move that did not happen, and drop the point's further decimals.
            return super().save(commit=commit)
        coordinates = self.cleaned_data["coordinates"]
        self.instance.location = Point(coordinates.longitude, coordinates.latitude, srid=4326)
        # A point written coarsely (an MGRS 1 km square, one decimal) is no more precise
        # than it was written, whatever precision was chosen.
        self.instance.location_precision = coarser_precision(
            self.cleaned_data["location_precision"],
            precision_of(uncertainty_m=coordinates.uncertainty_m),
        )
        return super().save(commit=commit)


WEAPON_FIELDS = [
    "category",
    "recovery",
    "manufacture_mode",
    "make",
    "model",
    "calibre",
    "serial_number",
    "markings_altered",
    "alteration_location",
    "alteration_method",
    "restored_serial_number",
    "country_of_manufacture",
    "year_of_manufacture",
    "quantity",
    "condition",
    "disposition",
    "factory_markings",
    "import_markings",
    "import_country",
    "import_year",
    "state_ownership_mark",
    "component_serials",
    "other_markings",
]


class WeaponItemForm(ModelDefaultsForm):
    defaulted = ("manufacture_mode", "recovery")


WeaponFormSet = forms.inlineformset_factory(
    Incident,
    WeaponItem,
    form=WeaponItemForm,
    # A copy: the inline formset adds its foreign key to the list it is given, and the
    # shared list is also the API's (incidents/api/serializers.py).
    fields=[*WEAPON_FIELDS],
    field_classes={"component_serials": ComponentSerialsField},
    extra=1,
    can_delete=True,
    widgets={
        "other_markings": forms.Textarea(attrs={"rows": 2}),
        # Suggests the controlled list's names and aliases (the entry page's datalist).
        "make": forms.TextInput(attrs={"list": "manufacturer-spellings"}),
    },
)
AMMUNITION_FIELDS = [
    "category",
    "calibre",
    "ammunition_type",
    "state",
    "headstamp_manufacturer",
    "headstamp_year",
    "country_of_manufacture",
    "lot",
    "packaging_markings",
    "quantity",
]
PERSONS_FIELDS = ["role", "sex", "age_group", "outcome", "count"]


class AmmunitionItemForm(ModelDefaultsForm):
    defaulted = ("category", "state")


AmmunitionFormSet = forms.inlineformset_factory(
    Incident,
    AmmunitionItem,
    form=AmmunitionItemForm,
    extra=1,
    can_delete=True,
    fields=[*AMMUNITION_FIELDS],  # a copy, as above
)


class PersonsInvolvedForm(ModelDefaultsForm):
    defaulted = ("outcome",)


PersonsFormSet = forms.inlineformset_factory(
    Incident,
    PersonsInvolved,
    form=PersonsInvolvedForm,
    extra=1,
    can_delete=True,
    fields=[*PERSONS_FIELDS],  # a copy, as above
)
ITEM_FORMSETS = (
    ("weapons", WeaponFormSet),
    ("ammunition", AmmunitionFormSet),
    ("persons", PersonsFormSet),
)


class ReturnForm(forms.Form):
    comment = forms.CharField(
        label=_("What should the reporter correct?"), widget=forms.Textarea(attrs={"rows": 3})
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for withdrawal"), widget=forms.Textarea(attrs={"rows": 3})
    )


class PhotoForm(forms.Form):
    image = forms.FileField(label=_("Photo"))
    weapon = forms.ModelChoiceField(
        queryset=WeaponItem.objects.none(), required=False, label=_("Of weapon")
    )
    shows = forms.MultipleChoiceField(
        choices=PhotoSubject.choices,
        required=False,
        label=_("It shows"),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, incident, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["weapon"].queryset = incident.weapons.all()


class ImportForm(forms.Form):
    file = forms.FileField(label=_("File (CSV, XLSX or GeoJSON)"))
    contingent = forms.ModelChoiceField(
        queryset=Contingent.objects.none(), label=_("Reporting contingent")
    )

    EXTENSIONS = {"csv": "csv", "xlsx": "xlsx", "geojson": "geojson", "json": "geojson"}

    def __init__(self, *args, reporter, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contingent"].queryset = Contingent.objects.filter(
            memberships__user=reporter, memberships__role=Role.REPORTER
        ).select_related("mission")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        extension = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else ""
        if extension not in self.EXTENSIONS:
            raise forms.ValidationError(_("Send a .csv, .xlsx or .geojson file."))
        upload.file_format = self.EXTENSIONS[extension]
        # Size and type from the content, before anything parses it.
        try:
            check_import_content(upload, upload.file_format)
        except ImportFileError as error:
            raise forms.ValidationError(str(error)) from error
        return upload


class CustodyEventForm(forms.Form):
    weapon = forms.ModelChoiceField(queryset=WeaponItem.objects.none(), label=_("Weapon"))
    kind = forms.ChoiceField(choices=CustodyEventKind.choices, label=_("Event"))
    occurred_at = forms.DateTimeField(
        label=_("When (UTC)"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    place = forms.CharField(label=_("Where"), required=False, max_length=200)
    transferred_to = forms.CharField(label=_("Transferred to"), required=False, max_length=200)
    destruction_method = forms.CharField(label=_("Destroyed how"), required=False, max_length=200)
    witnessed_by = forms.CharField(label=_("Witnessed by"), required=False, max_length=300)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, incident, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["weapon"].queryset = incident.weapons.all()


def _date_field(label, **kwargs):
    return forms.DateField(label=label, widget=forms.DateInput(attrs={"type": "date"}), **kwargs)


class TraceRequestForm(forms.Form):
    """A trace request as sent (ISACS 05.31; ITI paragraph 17): one weapon with one serial,
    the points of contact, why the weapon is illicit and on what basis it is traced, what the
    answer will be used for, how to handle it, and the serials and photos sent."""

    weapon = forms.ModelChoiceField(queryset=WeaponItem.objects.none(), label=_("Weapon"))
    follows = forms.ModelChoiceField(
        queryset=TraceRequest.objects.none(),
        label=_("Follows up the request"),
        required=False,
        help_text=_(
            "For a request to the exporter or importer after the manufacturer's answer: the "
            "earlier request on the same weapon."
        ),
    )
    reference = forms.CharField(
        label=_("Requesting authority's reference"), max_length=100, required=False
    )
    addressee = forms.CharField(label=_("Sent to (State or manufacturer)"), max_length=200)
    addressee_country = forms.CharField(
        label=_("Country of the addressee (ISO alpha-3)"),
        max_length=3,
        required=False,
        validators=[validate_country_code],
    )
    sent_on = _date_field(_("Sent on"))
    response_due_on = _date_field(_("Answer due by"), required=False)
    urgency = forms.ChoiceField(
        label=_("Urgency"),
        choices=TraceUrgency.choices,
        initial=TraceUrgency.ROUTINE,
        required=False,
    )
    confidentiality = forms.ChoiceField(
        label=_("Confidentiality"),
        choices=TraceConfidentiality.choices,
        initial=TraceConfidentiality.LAW_ENFORCEMENT,
        required=False,
    )
    requester_contact_organisation = forms.CharField(
        label=_("Requesting authority"), max_length=200, required=False
    )
    requester_contact_name = forms.CharField(
        label=_("Requesting point of contact: name"), max_length=200, required=False
    )
    requester_contact_email = forms.EmailField(
        label=_("Requesting point of contact: email"), required=False
    )
    requester_contact_phone = forms.CharField(
        label=_("Requesting point of contact: telephone"), max_length=50, required=False
    )
    addressee_contact_organisation = forms.CharField(
        label=_("Addressee's point of contact: organisation"), max_length=200, required=False
    )
    addressee_contact_name = forms.CharField(
        label=_("Addressee's point of contact: name"), max_length=200, required=False
    )
    addressee_contact_email = forms.EmailField(
        label=_("Addressee's point of contact: email"), required=False
    )
    addressee_contact_phone = forms.CharField(
        label=_("Addressee's point of contact: telephone"), max_length=50, required=False
    )
    illicit_nature = forms.CharField(
        label=_("Illicit nature of the weapon"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    legal_basis = forms.CharField(
        label=_("Legal basis of the request"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    intended_use = forms.CharField(
        label=_("Intended use of the information"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    serial_number_sent = forms.CharField(
        label=_("Serial number as sent"),
        max_length=60,
        required=False,
        help_text=_("Left empty: the weapon's serial number."),
    )
    component_serials = ComponentSerialsField(
        label=_("Serial numbers of components"),
        required=False,
        help_text=_("Left empty: the weapon's. One per line: barrel: A1234."),
    )
    photos = forms.ModelMultipleChoiceField(
        queryset=Photo.objects.none(),
        label=_("Photos sent"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, incident, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["weapon"].queryset = incident.weapons.filter(serial_number__gt="")
        self.fields["follows"].queryset = TraceRequest.objects.filter(
            weapon__incident=incident
        ).select_related("weapon")
        self.fields["photos"].queryset = incident.photos.all()

    def clean_weapon(self):
        weapon = self.cleaned_data["weapon"]
        refusal = trace_refusal(weapon)
        if refusal:
            raise forms.ValidationError(refusal["weapon"])
        return weapon

    def clean_addressee_country(self):
        return self.cleaned_data["addressee_country"].upper()

    def clean_urgency(self):
        return self.cleaned_data["urgency"] or TraceUrgency.ROUTINE

    def clean_confidentiality(self):
        return self.cleaned_data["confidentiality"] or TraceConfidentiality.LAW_ENFORCEMENT


class TraceProgressForm(forms.Form):
    """The addressee's acknowledgement, a reminder sent, a new deadline."""

    acknowledged_on = _date_field(_("Acknowledged on"), required=False)
    reminder_sent_on = _date_field(_("Reminder sent on"), required=False)
    response_due_on = _date_field(_("Answer due by"), required=False)


# The point of diversion, as a trace answer and an illicit origin both record it.
def _diversion_country_field() -> forms.CharField:
    return forms.CharField(
        label=_("Country of diversion (ISO alpha-3)"),
        required=False,
        max_length=3,
        validators=[validate_country_code],
    )


def _diversion_point_field() -> forms.CharField:
    return forms.CharField(
        label=_("Point of diversion (coordinates)"), required=False, max_length=100
    )


def _point_or_none(text: str) -> Point | None:
    """A point typed in any notation the forms take (decimal, DMS, MGRS), or None."""
    if not text.strip():
        return None
    coordinates = parse_coordinates(text)
    return Point(coordinates.longitude, coordinates.latitude, srid=4326)


class IllicitOriginForm(forms.Form):
    """An illicit origin established for one of the record's weapons (incidents/origins.py)."""

    weapon = forms.ModelChoiceField(queryset=WeaponItem.objects.none(), label=_("Weapon"))
    method = forms.ChoiceField(label=_("Established by way of"), choices=OriginMethod.choices)
    trace = forms.ModelChoiceField(
        queryset=TraceRequest.objects.none(),
        label=_("Trace request whose answer established it"),
        required=False,
    )
    kind = forms.ChoiceField(label=_("Kind of illicit origin"), choices=OriginKind.choices)
    diversion_country = _diversion_country_field()
    diversion_coordinates = _diversion_point_field()
    diversion_date = forms.DateField(
        label=_("Date of diversion"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    established_by = forms.CharField(
        label=_("Established by (competent authority)"), max_length=200
    )
    established_on = forms.DateField(
        label=_("Established on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea({"rows": 2}))

    def __init__(self, *args, incident, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["weapon"].queryset = incident.weapons.all()
        self.fields["trace"].queryset = TraceRequest.objects.filter(weapon__incident=incident)

    def clean_diversion_coordinates(self):
        return _point_or_none(self.cleaned_data["diversion_coordinates"])


class TraceAnswerForm(forms.Form):
    answered_on = forms.DateField(
        label=_("Answered on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    status = forms.ChoiceField(
        label=_("Outcome"),
        required=False,
        choices=[("", _("From the point of diversion (traced / closed, not traced)"))]
        + [(code, TraceStatus(code).label) for code in TRACE_OUTCOMES],
    )
    failure_reason = forms.ChoiceField(
        label=_("Reason the trace failed"),
        required=False,
        choices=[("", "—"), *TraceFailureReason.choices],
        help_text=_("Required for a negative answer (no record, refused, closed not traced)."),
    )
    failure_detail = forms.CharField(
        label=_("Failure: details"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    forwarded_to = forms.CharField(label=_("Forwarded to"), required=False, max_length=200)
    diversion_established = forms.BooleanField(
        label=_("Point of diversion established"), required=False
    )
    diversion_country = _diversion_country_field()
    diversion_coordinates = _diversion_point_field()
    last_legal_end_user = forms.CharField(
        label=_("Last legal end user"), required=False, max_length=200
    )
    transit_countries = forms.CharField(
        label=_("Transit countries (ISO alpha-3, comma-separated)"),
        required=False,
        max_length=200,
        help_text=_("Countries the weapon crossed between its diversion and its seizure."),
    )

    def clean_status(self):
        return self.cleaned_data["status"] or None

    def clean_diversion_country(self):
        return self.cleaned_data["diversion_country"].upper()

    def clean_transit_countries(self):
        # In the order given, each once.
        codes = list(
            dict.fromkeys(
                code.strip().upper()
                for code in self.cleaned_data["transit_countries"].split(",")
                if code.strip()
            )
        )
        errors = []
        for code in codes:
            try:
                validate_country_code(code)
            except forms.ValidationError as error:
                errors.extend(error.error_list)
        if errors:
            raise forms.ValidationError(errors)
        return codes

    def clean_diversion_coordinates(self):
        return _point_or_none(self.cleaned_data["diversion_coordinates"])
