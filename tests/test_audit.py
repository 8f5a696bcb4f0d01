"""The audit trail: each sensitive read and each write leaves exactly one row saying who,
what, when, from where and how many records; no role can change or delete a row."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction
from PIL import Image

from geo.core.boundaries import countries_load
from incidents import services
from incidents.imports.importer import incidents_import
from incidents.models import Incident
from organisations.access import AgencyPrincipal
from organisations.audit import record_read
from organisations.models import AuditEvent
from tests.personas import build_world


def only_event(**match) -> AuditEvent:
    events = list(AuditEvent.objects.filter(**match))
    assert len(events) == 1, [str(event) for event in events]
    return events[0]


def png_upload(name="seized.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "navy").save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


# --- the trail cannot be rewritten ---------------------------------------------------


def test_the_database_refuses_to_update_or_delete_audit_rows(world):
    event = record_read(world.users["verifier"], "incident.detail", records=1)

    for statement in (
        "UPDATE organisations_auditevent SET records = 0 WHERE id = %s",
        "DELETE FROM organisations_auditevent WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [event.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(actor="someone else")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()

    event.refresh_from_db()
    assert (event.records, event.actor) == (1, "user:verifier")


def test_the_refusal_holds_for_a_superuser_connection(world):
    # The test database is reached as a superuser, which REVOKE could not bind: the
    # trigger does.
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone()[0] is True
    record_read(world.users["admin"], "incident.detail", records=1)
    with (
        pytest.raises(DatabaseError, match="DELETE refused"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM organisations_auditevent")
    assert AuditEvent.objects.count() == 1


# --- reads --------------------------------------------------------------------------


def test_an_incident_page_leaves_one_read_row_with_who_where_and_what(client, world):
    incident = world.records["alpha_verified_L1"]
    client.force_login(world.users["verifier"])

    response = client.get(f"/incidents/{incident.pk}/", REMOTE_ADDR="10.20.30.40")

    assert response.status_code == 200
    event = only_event(action="incident.detail")
    assert (event.kind, event.user, event.records, event.channel) == (
        "read",
        world.users["verifier"],
        1,
        "web",
    )
    assert (event.object_type, event.object_id) == ("incidents.incident", str(incident.pk))
    assert (event.method, event.path, event.remote_address) == (
        "GET",
        f"/incidents/{incident.pk}/",
        "10.20.30.40",
    )


def test_a_refused_incident_page_leaves_a_refused_row_and_no_read_of_records(client, world):
    client.force_login(world.users["reporter_bravo"])
    response = client.get(f"/incidents/{world.records['alpha_draft_L1'].pk}/")
    assert response.status_code == 404
    # Who asked for which id is kept (tests/test_refused_reads.py); no record was read.
    event = only_event(kind="read")
    assert (event.action, event.records) == ("incident.detail.refused", 0)


def test_a_photo_download_leaves_one_read_row(client, world):
    incident = world.records["alpha_draft_L1"]
    photo = services.photo_attach(
        incident=incident, by=world.users["reporter_alpha"], upload=png_upload()
    )
    client.force_login(world.users["reporter_alpha"])

    response = client.get(f"/incidents/photos/{photo.pk}")

    assert response.status_code == 200
    event = only_event(action="photo.download")
    assert (event.user, event.records, event.object_id) == (
        world.users["reporter_alpha"],
        1,
        str(photo.pk),
    )


@pytest.mark.parametrize("extension", ["csv", "xlsx", "geojson"])
def test_each_export_leaves_one_read_row_with_the_number_of_records(client, world, extension):
    user = world.users["verifier"]
    visible = Incident.objects.visible_to(user).count()
    assert visible > 1
    client.force_login(user)

    response = client.get(f"/api/v1/incidents/export.{extension}")
    b"".join(response.streaming_content) if response.streaming else response.content

    assert response.status_code == 200
    event = only_event(action=f"incident.export.{extension}")
    assert (event.kind, event.records, event.channel) == ("read", visible, "api")


def test_an_agency_pull_names_the_agency_and_its_key_and_counts_the_records(client, world):
    raw_key = world.api_keys["partner_agency"]
    agency = world.agencies["partner_agency"]
    visible = Incident.objects.visible_to(AgencyPrincipal(agency=agency)).count()

    response = client.get("/api/v1/incidents?limit=50", HTTP_AUTHORIZATION=f"Api-Key {raw_key}")

    assert response.status_code == 200
    event = only_event(action="api.incidents.list")
    returned = len(response.json()["results"])
    assert returned == visible > 0
    assert (event.agency, event.user, event.records, event.query) == (
        agency,
        None,
        returned,
        "limit=50",
    )
    assert event.api_key_prefix == raw_key.split(".")[0]
    assert event.actor.startswith(f"agency:{agency.name}")


def test_an_api_record_leaves_one_read_row(client, world):
    incident = world.records["alpha_verified_L1"]
    client.force_login(world.users["verifier"])
    assert client.get(f"/api/v1/incidents/{incident.pk}").status_code == 200
    assert only_event(action="api.incidents.detail").records == 1


def test_ogc_items_and_item_leave_one_read_row_each(client, world):
    raw_key = world.api_keys["partner_agency"]
    header = {"HTTP_AUTHORIZATION": f"Api-Key {raw_key}"}

    page = client.get("/ogc/collections/incidents/items?limit=3", **header)
    assert page.status_code == 200
    features = page.json()["features"]
    assert only_event(action="ogc.items").records == len(features) > 0

    one = client.get(f"/ogc/collections/incidents/items/{features[0]['id']}", **header)
    assert one.status_code == 200
    event = only_event(action="ogc.item")
    assert (event.records, event.channel, event.agency) == (
        1,
        "ogc",
        world.agencies["partner_agency"],
    )


# --- writes -------------------------------------------------------------------------


def test_each_workflow_step_leaves_one_write_row_in_its_transaction(client, world):
    incident = world.records["alpha_draft_L1"]
    client.force_login(world.users["reporter_alpha"])
    client.post(f"/incidents/{incident.pk}/submit", REMOTE_ADDR="10.1.1.1")
    client.force_login(world.users["verifier"])
    client.post(f"/incidents/{incident.pk}/verify", REMOTE_ADDR="10.1.1.2")

    writes = list(AuditEvent.objects.filter(kind="write").order_by("id"))
    assert [(w.action, w.user.username, w.remote_address, w.object_id) for w in writes] == [
        ("incident.submit", "reporter_alpha", "10.1.1.1", str(incident.pk)),
        ("incident.verify", "verifier", "10.1.1.2", str(incident.pk)),
    ]


def test_a_refused_write_leaves_no_row(world):
    incident = world.records["alpha_draft_L1"]
    with pytest.raises(Exception, match="may not"):
        services.incident_verify(incident=incident, by=world.users["reporter_alpha"])
    assert not AuditEvent.objects.filter(kind="write").exists()


def test_a_write_rolled_back_takes_its_audit_row_with_it(world):
    incident = world.records["alpha_draft_L1"]
    with pytest.raises(RuntimeError), transaction.atomic():
        services.incident_submit(incident=incident, by=world.users["reporter_alpha"])
        assert AuditEvent.objects.filter(action="incident.submit").count() == 1
        raise RuntimeError("the request failed after the write")
    assert not AuditEvent.objects.exists()


def test_a_photo_upload_leaves_a_write_row(world):
    incident = world.records["alpha_draft_L1"]
    reporter = world.users["reporter_alpha"]
    services.photo_attach(incident=incident, by=reporter, upload=png_upload())
    assert only_event(action="photo.attach").user == reporter


def test_an_import_leaves_one_write_row_with_the_rows_it_wrote(db):
    countries_load(scale="110m")
    world = build_world()
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(
        [
            "external_reference",
            "occurred_at",
            "latitude",
            "longitude",
            "kind",
            "context",
            "weapon_category",
            "weapon_quantity",
        ]
    )
    writer.writerow(
        ["AU-1", "2025-06-01", "4.39", "18.55", "cache_discovery", "other", "mortar", "1"]
    )
    writer.writerow(
        ["AU-2", "2025-06-02", "4.39", "18.55", "cache_discovery", "other", "mortar", "2"]
    )

    report = incidents_import(
        upload=io.BytesIO(text.getvalue().encode()),
        file_format="csv",
        contingent=world.records["alpha_draft_L1"].contingent,
        by=world.users["reporter_alpha"],
    )

    assert report.ok, report.as_dict()
    event = only_event(action="import.csv")
    assert (event.kind, event.records, event.user, event.channel) == (
        "write",
        4,  # two incidents and their two weapons
        world.users["reporter_alpha"],
        "worker",  # no request in this thread
    )


def test_a_change_made_in_the_admin_leaves_one_write_row(client, world):
    admin = world.users["admin"]
    client.force_login(admin)

    response = client.post(
        "/admin/organisations/userpreferences/add/",
        {"user": world.users["verifier"].pk, "language": "fr"},
        REMOTE_ADDR="10.9.9.9",
    )

    assert response.status_code == 302, response.content[:500]
    event = only_event(kind="write")
    assert (event.action, event.user, event.object_type, event.remote_address) == (
        "admin.add",
        admin,
        "organisations.userpreferences",
        "10.9.9.9",
    )


def test_a_page_of_the_record_list_leaves_one_read_row_with_its_length(client, world):
    user = world.users["verifier"]
    client.force_login(user)
    response = client.get("/incidents/")
    assert response.status_code == 200
    shown = len(response.context["page"].object_list)
    assert only_event(action="incident.list").records == shown > 0
