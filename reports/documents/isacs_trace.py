"""Trace requests in the fields of the tracing request form of ISACS 05.31 (Conducting
tracing of illicit small arms and light weapons): who asks and to whom, the weapon's
identification (type, make, model, calibre, serial number, markings), the circumstances of
its seizure, and the answer received. One row per trace request sent in the period on a
weapon of the scope, ready to send through national channels.

Locations are as the reader may see them (generalised where it may not see them exactly).
"""

from django.utils.translation import gettext as _

from incidents.choices import Context, IncidentKind, TraceStatus, WeaponCategory
from reports.documents import figures
from reports.documents.document import Document, ReportContext, Section, Table
from reports.documents.sections import label

# Each field's HXL hashtag (https://hxlstandard.org/standard/dictionary/): a trace request
# is an #activity, the weapon an #item; our own attributes are listed in the README.
FIELDS = [
    ("request_reference", "#activity+code"),
    ("requesting_authority", "#org+requesting"),
    ("addressed_to", "#org+addressee"),
    ("date_of_request", "#date+trace_requested"),
    ("type_of_weapon", "#item+type"),
    ("manufacturer", "#item+make"),
    ("model", "#item+model"),
    ("calibre", "#item+calibre"),
    ("serial_number", "#item+serial"),
    ("factory_markings", "#item+markings+factory"),
    ("import_markings", "#item+markings+import"),
    ("other_markings", "#item+markings+other"),
    ("markings_altered", "#item+markings+altered"),
    ("country_of_manufacture", "#country+code+manufacture"),
    ("year_of_manufacture", "#date+manufacture"),
    ("quantity", "#item+weapons+num"),
    ("date_of_seizure", "#date+occurred"),
    ("country_of_seizure", "#country+code"),
    ("place_of_seizure", "#adm1+name"),
    ("latitude", "#geo+lat"),
    ("longitude", "#geo+lon"),
    ("circumstances", "#event+type"),
    ("context", "#event+context"),
    ("status", "#status"),
    ("date_of_reply", "#date+answered"),
    ("point_of_diversion_established", "#meta+traced"),
    # The point of diversion is the weapon's illicit origin.
    ("country_of_diversion", "#country+code+origin"),
    ("last_legal_end_user", "#org+end_user"),
    ("transit_countries", "#country+code+transit"),
]


def column_titles() -> list[str]:
    return [
        _("Request reference"),
        _("Requesting authority"),
        _("Addressed to"),
        _("Date of request"),
        _("Type of weapon"),
        _("Manufacturer"),
        _("Model"),
        _("Calibre"),
        _("Serial number"),
        _("Factory markings"),
        _("Import and acquisition markings"),
        _("Other markings"),
        _("Markings altered or obliterated"),
        _("Country of manufacture"),
        _("Year of manufacture"),
        _("Quantity"),
        _("Date of seizure"),
        _("Country of seizure"),
        _("Place of seizure"),
        _("Latitude"),
        _("Longitude"),
        _("Circumstances of seizure"),
        _("Context"),
        _("Status"),
        _("Date of reply"),
        _("Point of diversion established"),
        _("Country of diversion"),
        _("Last legal end user"),
        _("Transit countries"),
    ]


def _trace_rows(ctx: ReportContext) -> list[tuple]:
    return figures.query(
        ctx.scope_incidents,
        """
        SELECT t.id, mission.acronym || ' / ' || contingent.name, t.addressee, t.sent_on,
               w.category, w.make, w.model, w.calibre, w.serial_number, w.factory_markings,
               w.import_markings, w.other_markings, w.markings_altered,
               w.country_of_manufacture, w.year_of_manufacture, w.quantity,
               (incident.occurred_at AT TIME ZONE 'UTC')::date, incident.country,
               COALESCE(area.name, ''), round(ST_Y(chosen.shown_location)::numeric, 5),
               round(ST_X(chosen.shown_location)::numeric, 5), incident.kind, incident.context,
               t.status, t.answered_on, t.diversion_established, t.diversion_country,
               t.last_legal_end_user, array_to_string(t.transit_countries, ' ')
        FROM incidents_tracerequest AS t
        JOIN incidents_weaponitem AS w ON w.id = t.weapon_id
        JOIN chosen ON chosen.id = w.incident_id
        JOIN incidents_incident AS incident ON incident.id = chosen.id
        JOIN organisations_mission AS mission ON mission.id = incident.mission_id
        JOIN organisations_contingent AS contingent ON contingent.id = incident.contingent_id
        LEFT JOIN geo_adminarea AS area ON area.id = chosen.shown_admin_area_id
        WHERE t.sent_on BETWEEN %s AND %s
        ORDER BY t.sent_on, t.id
        """,
        (ctx.period_start, ctx.period_end),
    )


def _yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


def build(ctx: ReportContext) -> Document:
    ctx.progress(30, _("Trace requests"))
    rows = []
    for row in _trace_rows(ctx):
        row = list(row)
        row[0] = f"AM-TR-{row[0]}"
        row[3] = row[3].isoformat()
        row[4] = label(WeaponCategory, row[4])
        row[12] = _yes_no(row[12])
        row[14] = row[14] or ""
        row[16] = row[16].isoformat()
        row[19], row[20] = float(row[19]), float(row[20])
        row[21] = label(IncidentKind, row[21])
        row[22] = label(Context, row[22])
        row[23] = label(TraceStatus, row[23])
        row[24] = row[24].isoformat() if row[24] else ""
        row[25] = _yes_no(row[25])
        rows.append(row)
    table = Table(
        name="isacs_05_31_trace_requests",
        title=_("Trace requests (ISACS 05.31 tracing form)"),
        columns=column_titles(),
        hxl=[tag for _name, tag in FIELDS],
        rows=rows,
        layout="records",
        # The transit countries (codes joined by spaces), one per cell in the HXL CSV.
        lists={[name for name, _tag in FIELDS].index("transit_countries"): " "},
    )
    return Document(
        title=_("Trace requests for national channels"),
        subtitle=ctx.scope.label,
        sections=[
            Section(
                title=_("Trace requests sent in the period"),
                paragraphs=[
                    _("%(count)s trace requests, in the fields of the ISACS 05.31 tracing form.")
                    % {"count": len(rows)}
                ],
                tables=[table],
            )
        ],
    )
