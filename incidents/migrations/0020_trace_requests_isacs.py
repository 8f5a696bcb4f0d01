"""Trace requests per ISACS 05.31 and ITI paragraph 17 (issue 19): points of contact,
illicit nature, legal basis, intended use, confidentiality, urgency, acknowledgement,
deadline and reminder dates, failure reason, serials and photos sent, follow-up chains, and
the statuses acknowledged, partially_traced, no_record, refused and forwarded.

Written by hand from makemigrations' operations, with the data step at the end. Existing
rows are mapped so that no negative answer stays "answered":

  answered, diversion not established, a last legal end user named -> partially_traced
  answered, diversion not established, no end user named           -> no_record
                                  (failure reason no_record, detail MIGRATED_NOTE)
  closed_untraced                 -> kept; failure reason "other", detail MIGRATED_NOTE
  sent, answered with diversion   -> kept
  every request                   -> serial_number_sent = its weapon's serial number

Backwards (the new columns are then dropped):

  partially_traced                -> answered
  no_record with MIGRATED_NOTE    -> answered
  no_record, refused (others)     -> closed_untraced
  acknowledged, forwarded         -> sent
  answered, closed_untraced, sent -> kept

so that forward then back gives every row its old status. The historical rows keep the
statuses they recorded. The flow triggers (0008, 0012) read none of the columns changed
here (diversion_established, diversion_country, diversion_point, transit_countries,
answered_on, sent_on), so the items' derived origins do not move.
"""

import django.db.models.deletion
import simple_history.models
from django.db import migrations, models
from django.db.models import OuterRef, Subquery

import geo.countries
import incidents.trace_requests

MIGRATED_NOTE = "Recorded before the platform kept failure reasons (migration 0020)."


def forwards(apps, schema_editor):
    TraceRequest = apps.get_model("incidents", "TraceRequest")
    negative = TraceRequest.objects.filter(status="answered", diversion_established=False)
    negative.exclude(last_legal_end_user="").update(status="partially_traced")
    negative.filter(last_legal_end_user="").update(
        status="no_record", failure_reason="no_record", failure_detail=MIGRATED_NOTE
    )
    TraceRequest.objects.filter(status="closed_untraced", failure_reason="").update(
        failure_reason="other", failure_detail=MIGRATED_NOTE
    )
    TraceRequest.objects.filter(serial_number_sent="").update(
        serial_number_sent=Subquery(
            apps.get_model("incidents", "WeaponItem")
            .objects.filter(pk=OuterRef("weapon_id"))
            .values("serial_number")[:1]
        )
    )
    _check_constraints_now(schema_editor)


def backwards(apps, schema_editor):
    TraceRequest = apps.get_model("incidents", "TraceRequest")
    TraceRequest.objects.filter(status="partially_traced").update(status="answered")
    TraceRequest.objects.filter(status="no_record", failure_detail=MIGRATED_NOTE).update(
        status="answered"
    )
    TraceRequest.objects.filter(status__in=["no_record", "refused"]).update(
        status="closed_untraced"
    )
    TraceRequest.objects.filter(status__in=["acknowledged", "forwarded"]).update(status="sent")
    _check_constraints_now(schema_editor)


def _check_constraints_now(schema_editor):
    # The updates queue the deferred foreign-key checks of the rows they touch; PostgreSQL
    # refuses to alter or index a table with pending trigger events, which the schema
    # changes of this migration do after this step (the indexes of `follows` are created at
    # its end, the columns dropped after it backwards). Checked now, nothing is pending.
    schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0019_importjob_language"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicaltracerequest",
            name="acknowledged_on",
            field=models.DateField(blank=True, null=True, verbose_name="acknowledged on"),
        ),
        migrations.AddField(
            model_name="historicaltracerequest",
            name="addressee_contact_email",
            field=models.EmailField(
                blank=True,
                db_default="",
                max_length=254,
                verbose_name="addressee's point of contact: email",
            ),
        ),
        migrations.AddField(
            model_name="historicaltracerequest",
            name="addressee_contact_name",
            field=models.CharField(
                blank=True,
                db_default="",
                max_length=200,
                verbose_name="addressee's point of contact: name",
            ),
        ),
        migrations.AddField(
            model_name="historicaltracerequest",
            name="addressee_contact_organisation",
            field=models.CharField(
                blank=True,
                db_default="",
                max_length=200,
                verbose_name="addressee's point of contact: organisation",
            ),
        ),
        migrations.AddField(
            model_name="historicaltracerequest",
            name="addressee_contact_phone",
            field=models.CharField(
                blank=True,
                db_default="",
                max_length=50,
                verbose_name="addressee's point of contact: telephone",
            ),
        ),
        migrations.AddField(
            model_name="historicaltracerequest",
            name="addressee_country",
            field=models.CharField(
                blank=True,
                db_default="",
                max_length=3,
                validators=[geo.countries.validate_country_code],
                verbose_name="country of the addressee",
            ),
        ),
        migrations.AddField(
            model_name="historicaltracerequest",
            name="component_serials",
            field=models.JSONField(
                blank=True,
                db_default=models.Value([], output_field=models.JSONField()),
                default=list,
                help_text='A list of {"component": "barrel", "serial": "A123"}.',
                validators=[incidents.trace_requests.validate_component_serials],
                verbose_name="component serial numbers sent",
            ),
        ),
        migrations.AddField(
            model_name="historicaltracerequest",
            name="confidentiality",
            field=models.CharField(
                choices=[
                    ("unrestricted", "No restriction"),
                    ("law_enforcement", "Law-enforcement use only"),
                    ("confidential", "Confidential"),
                    ("strictly_confidential", "Strictly confidential"),
                ],
                db_default="law_enforcement",
                default="law_enforcement",
                max_length=25,
                verbose_name="confidentiality",
            ),
        ),
        migrations.AddField(
            model_name="historicaltracerequest",
            name="failure_detail",
            field=models.TextField(blank=True, db_default="", verbose_name="failure: details"),
        ),
        migrations.AddField(
            model_name="historicaltracerequest",
            name="failure_reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("no_record", "No record of the weapon"),
                    ("refused", "Request refused"),
                    ("not_marked", "Weapon not marked, or not uniquely"),
                    ("marking_illegible", "Marking illegible or altered"),
                    ("other", "Other reason"),
                ],
                db_default="",
                max_length=20,
                verbose_name="reason the trace failed",
            ),
        ),
        migrations.AddField(
            model_name="historicaltracerequest",
            name="follows",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                help_text="The earlier request on the same weapon that this one continues (manufacturer, then exporter, then importer).",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="incidents.tracerequest",
                verbose_name="follows up the request",
            ),
        ),
        migrations.AddField(
            model_name="historicaltracerequest",
            name="forwarded_to",
            field=models.CharField(
                blank=True,
                db_default="",
                help_text="The State or manufacturer the addressee passed the request on to.",
                max_length=200,
                verbose_name="forwarded to",
            ),
        ),
        migrations.AddField(
            model_name="historicaltracerequest",
            name="illicit_nature",
            field=models.TextField(
                blank=True,
                db_default="",
                help_text="Why the weapon is held to be illicit (how it was found, seized or used).",
                verbose_name="illicit nature of the weapon",
            ),
        ),
        migrations.AddField(
            model_name="historicaltracerequest",
            name="intended_use",
            field=models.TextField(
                blank=True,
                db_default="",
                help_text="What the information will be used for (investigation, embargo monitoring…).",
                verbose_name="intended use of the information",
            ),
        ),
        migrations.AddField(
            model_name="historicaltracerequest",
            name="legal_basis",
            field=models.TextField(
                blank=True,
                db_default="",
                help_text="The law, resolution or agreement under which the trace is requested.",
                verbose_name="legal basis of the request",
            ),
        ),
        migrations.AddField(
            model_name="historicaltracerequest",
            name="reference",
            field=models.CharField(
                blank=True,
                db_default="",
                max_length=100,
                verbose_name="requesting authority's reference",
            ),
        ),
        migrations.AddField(
            model_name="historicaltracerequest",
            name="reminder_sent_on",
            field=models.DateField(blank=True, null=True, verbose_name="reminder sent on"),
        ),
        migrations.AddField(
            model_name="historicaltracerequest",
            name="requester_contact_email",
            field=models.EmailField(
                blank=True,
                db_default="",
                max_length=254,
                verbose_name="requesting point of contact: email",
            ),
        ),
        migrations.AddField(
            model_name="historicaltracerequest",
            name="requester_contact_name",
            field=models.CharField(
                blank=True,
                db_default="",
                max_length=200,
                verbose_name="requesting point of contact: name",
            ),
        ),
        migrations.AddField(
            model_name="historicaltracerequest",
            name="requester_contact_organisation",
            field=models.CharField(
                blank=True, db_default="", max_length=200, verbose_name="requesting authority"
            ),
        ),
        migrations.AddField(
            model_name="historicaltracerequest",
            name="requester_contact_phone",
            field=models.CharField(
                blank=True,
                db_default="",
                max_length=50,
                verbose_name="requesting point of contact: telephone",
            ),
        ),
        migrations.AddField(
            model_name="historicaltracerequest",
            name="response_due_on",
            field=models.DateField(blank=True, null=True, verbose_name="answer due by"),
        ),
        migrations.AddField(
            model_name="historicaltracerequest",
            name="serial_number_sent",
            field=models.CharField(
                blank=True, db_default="", max_length=60, verbose_name="serial number sent"
            ),
        ),
        migrations.AddField(
            model_name="historicaltracerequest",
            name="urgency",
            field=models.CharField(
                choices=[("routine", "Routine"), ("urgent", "Urgent")],
                db_default="routine",
                default="routine",
                max_length=10,
                verbose_name="urgency",
            ),
        ),
        migrations.AddField(
            model_name="tracerequest",
            name="acknowledged_on",
            field=models.DateField(blank=True, null=True, verbose_name="acknowledged on"),
        ),
        migrations.AddField(
            model_name="tracerequest",
            name="addressee_contact_email",
            field=models.EmailField(
                blank=True,
                db_default="",
                max_length=254,
                verbose_name="addressee's point of contact: email",
            ),
        ),
        migrations.AddField(
            model_name="tracerequest",
            name="addressee_contact_name",
            field=models.CharField(
                blank=True,
                db_default="",
                max_length=200,
                verbose_name="addressee's point of contact: name",
            ),
        ),
        migrations.AddField(
            model_name="tracerequest",
            name="addressee_contact_organisation",
            field=models.CharField(
                blank=True,
                db_default="",
                max_length=200,
                verbose_name="addressee's point of contact: organisation",
            ),
        ),
        migrations.AddField(
            model_name="tracerequest",
            name="addressee_contact_phone",
            field=models.CharField(
                blank=True,
                db_default="",
                max_length=50,
                verbose_name="addressee's point of contact: telephone",
            ),
        ),
        migrations.AddField(
            model_name="tracerequest",
            name="addressee_country",
            field=models.CharField(
                blank=True,
                db_default="",
                max_length=3,
                validators=[geo.countries.validate_country_code],
                verbose_name="country of the addressee",
            ),
        ),
        migrations.AddField(
            model_name="tracerequest",
            name="component_serials",
            field=models.JSONField(
                blank=True,
                db_default=models.Value([], output_field=models.JSONField()),
                default=list,
                help_text='A list of {"component": "barrel", "serial": "A123"}.',
                validators=[incidents.trace_requests.validate_component_serials],
                verbose_name="component serial numbers sent",
            ),
        ),
        migrations.AddField(
            model_name="tracerequest",
            name="confidentiality",
            field=models.CharField(
                choices=[
                    ("unrestricted", "No restriction"),
                    ("law_enforcement", "Law-enforcement use only"),
                    ("confidential", "Confidential"),
                    ("strictly_confidential", "Strictly confidential"),
                ],
                db_default="law_enforcement",
                default="law_enforcement",
                max_length=25,
                verbose_name="confidentiality",
            ),
        ),
        migrations.AddField(
            model_name="tracerequest",
            name="failure_detail",
            field=models.TextField(blank=True, db_default="", verbose_name="failure: details"),
        ),
        migrations.AddField(
            model_name="tracerequest",
            name="failure_reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("no_record", "No record of the weapon"),
                    ("refused", "Request refused"),
                    ("not_marked", "Weapon not marked, or not uniquely"),
                    ("marking_illegible", "Marking illegible or altered"),
                    ("other", "Other reason"),
                ],
                db_default="",
                max_length=20,
                verbose_name="reason the trace failed",
            ),
        ),
        migrations.AddField(
            model_name="tracerequest",
            name="follows",
            field=models.ForeignKey(
                blank=True,
                help_text="The earlier request on the same weapon that this one continues (manufacturer, then exporter, then importer).",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="follow_ups",
                to="incidents.tracerequest",
                verbose_name="follows up the request",
            ),
        ),
        migrations.AddField(
            model_name="tracerequest",
            name="forwarded_to",
            field=models.CharField(
                blank=True,
                db_default="",
                help_text="The State or manufacturer the addressee passed the request on to.",
                max_length=200,
                verbose_name="forwarded to",
            ),
        ),
        migrations.AddField(
            model_name="tracerequest",
            name="illicit_nature",
            field=models.TextField(
                blank=True,
                db_default="",
                help_text="Why the weapon is held to be illicit (how it was found, seized or used).",
                verbose_name="illicit nature of the weapon",
            ),
        ),
        migrations.AddField(
            model_name="tracerequest",
            name="intended_use",
            field=models.TextField(
                blank=True,
                db_default="",
                help_text="What the information will be used for (investigation, embargo monitoring…).",
                verbose_name="intended use of the information",
            ),
        ),
        migrations.AddField(
            model_name="tracerequest",
            name="legal_basis",
            field=models.TextField(
                blank=True,
                db_default="",
                help_text="The law, resolution or agreement under which the trace is requested.",
                verbose_name="legal basis of the request",
            ),
        ),
        migrations.AddField(
            model_name="tracerequest",
            name="photos_sent",
            field=models.ManyToManyField(
                blank=True,
                related_name="trace_requests",
                to="incidents.photo",
                verbose_name="photos sent",
            ),
        ),
        migrations.AddField(
            model_name="tracerequest",
            name="reference",
            field=models.CharField(
                blank=True,
                db_default="",
                max_length=100,
                verbose_name="requesting authority's reference",
            ),
        ),
        migrations.AddField(
            model_name="tracerequest",
            name="reminder_sent_on",
            field=models.DateField(blank=True, null=True, verbose_name="reminder sent on"),
        ),
        migrations.AddField(
            model_name="tracerequest",
            name="requester_contact_email",
            field=models.EmailField(
                blank=True,
                db_default="",
                max_length=254,
                verbose_name="requesting point of contact: email",
            ),
        ),
        migrations.AddField(
            model_name="tracerequest",
            name="requester_contact_name",
            field=models.CharField(
                blank=True,
                db_default="",
                max_length=200,
                verbose_name="requesting point of contact: name",
            ),
        ),
        migrations.AddField(
            model_name="tracerequest",
            name="requester_contact_organisation",
            field=models.CharField(
                blank=True, db_default="", max_length=200, verbose_name="requesting authority"
            ),
        ),
        migrations.AddField(
            model_name="tracerequest",
            name="requester_contact_phone",
            field=models.CharField(
                blank=True,
                db_default="",
                max_length=50,
                verbose_name="requesting point of contact: telephone",
            ),
        ),
        migrations.AddField(
            model_name="tracerequest",
            name="response_due_on",
            field=models.DateField(blank=True, null=True, verbose_name="answer due by"),
        ),
        migrations.AddField(
            model_name="tracerequest",
            name="serial_number_sent",
            field=models.CharField(
                blank=True, db_default="", max_length=60, verbose_name="serial number sent"
            ),
        ),
        migrations.AddField(
            model_name="tracerequest",
            name="urgency",
            field=models.CharField(
                choices=[("routine", "Routine"), ("urgent", "Urgent")],
                db_default="routine",
                default="routine",
                max_length=10,
                verbose_name="urgency",
            ),
        ),
        migrations.AlterField(
            model_name="historicaltracerequest",
            name="status",
            field=models.CharField(
                choices=[
                    ("sent", "Sent"),
                    ("acknowledged", "Acknowledged by the addressee"),
                    ("answered", "Answered: traced"),
                    ("partially_traced", "Partially traced"),
                    ("no_record", "Answered: no record of the weapon"),
                    ("refused", "Refused"),
                    ("forwarded", "Forwarded to another State or manufacturer"),
                    ("closed_untraced", "Closed, not traced"),
                ],
                default="sent",
                max_length=20,
                verbose_name="status",
            ),
        ),
        migrations.AlterField(
            model_name="tracerequest",
            name="status",
            field=models.CharField(
                choices=[
                    ("sent", "Sent"),
                    ("acknowledged", "Acknowledged by the addressee"),
                    ("answered", "Answered: traced"),
                    ("partially_traced", "Partially traced"),
                    ("no_record", "Answered: no record of the weapon"),
                    ("refused", "Refused"),
                    ("forwarded", "Forwarded to another State or manufacturer"),
                    ("closed_untraced", "Closed, not traced"),
                ],
                default="sent",
                max_length=20,
                verbose_name="status",
            ),
        ),
        migrations.CreateModel(
            name="HistoricalTraceRequest_photos_sent",
            fields=[
                (
                    "id",
                    models.BigIntegerField(
                        auto_created=True, blank=True, db_index=True, verbose_name="ID"
                    ),
                ),
                ("m2m_history_id", models.AutoField(primary_key=True, serialize=False)),
                (
                    "history",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        to="incidents.historicaltracerequest",
                    ),
                ),
                (
                    "photo",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_tablespace="",
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="incidents.photo",
                    ),
                ),
                (
                    "tracerequest",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_tablespace="",
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="incidents.tracerequest",
                    ),
                ),
            ],
            options={
                "verbose_name": "HistoricalTraceRequest_photos_sent",
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.RunPython(forwards, backwards),
    ]
