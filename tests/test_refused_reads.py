"""Refused reads: asking for one record that is hidden from the caller, or that does not
exist, answers 404 as before and leaves an audit row with the id asked for and who asked,
so probing for ids is on record. The row does not say whether the id exists, as the answer
does not.

Personas (tests/personas.py): partner_agency reads MINUSCA's shareable records through its
key; mission_analyst reads MINUSCA's; neither sees MONUSCO's charlie_verified_L5. A report
asked for by mission_analyst is hidden from other_mission_analyst.
"""

from datetime import date

import pytest
from django.core.files.base import ContentFile

from incidents.choices import WeaponCategory
from incidents.models import AmmunitionItem, TraceRequest, WeaponItem
from organisations.models import AuditEvent
from reports.models import Report, ReportFile

ADDRESS = "10.20.30.40"
MISSING = 987_654_321


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture(autouse=True)
def one_item_of_each_kind(world):
    world.items = {}
    for name in ("alpha_verified_L5", "charlie_verified_L5"):
        incident = world.records[name]
        weapon = WeaponItem.objects.create(
            incident=incident, category=WeaponCategory.ASSAULT_RIFLE, serial_number=f"SN-{name}"
        )
        world.items[name] = {
            "weapons": weapon,
            "ammunition": AmmunitionItem.objects.create(
                incident=incident, calibre="7.62x39mm", quantity=30
            ),
            "trace-requests": TraceRequest.objects.create(
                weapon=weapon, addressee="Bulgaria", sent_on=date(2025, 4, 1)
            ),
        }


def ask(client, world, persona: str, path: str):
    """GET `path` as `persona`: with its agency key, or signed in as the user."""
    if persona in world.api_keys:
        return client.get(
            path, HTTP_AUTHORIZATION=f"Api-Key {world.api_keys[persona]}", REMOTE_ADDR=ADDRESS
        )
    client.force_login(world.users[persona])
    return client.get(path, REMOTE_ADDR=ADDRESS)


def refused_row(action: str) -> AuditEvent:
    rows = list(AuditEvent.objects.filter(action=action))
    assert len(rows) == 1, [str(row) for row in rows]
    return rows[0]


def assert_asked_by(row: AuditEvent, world, persona: str) -> None:
    if persona in world.api_keys:
        assert (row.user, row.agency) == (None, world.agencies[persona])
        assert row.api_key_prefix == world.api_keys[persona].split(".")[0]
        assert row.actor.startswith(f"agency:{persona} key:")
    else:
        assert (row.user, row.agency, row.api_key_prefix) == (world.users[persona], None, "")
        assert row.actor == f"user:{persona}"
    assert (row.kind, row.records, row.remote_address) == ("read", 0, ADDRESS)


def hidden_or_missing(world, which: str, resource: str = "incidents") -> int:
    if which == "missing":
        return MISSING
    if resource == "incidents":
        return world.records["charlie_verified_L5"].pk
    return world.items["charlie_verified_L5"][resource].pk


# --- the API's records -------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["partner_agency", "mission_analyst"])
@pytest.mark.parametrize("which", ["hidden", "missing"])
@pytest.mark.parametrize(
    ("resource", "action", "object_type"),
    [
        ("incidents", "incident.detail.refused", "incidents.incident"),
        ("weapons", "weapon.detail.refused", "incidents.weaponitem"),
        ("ammunition", "ammunition.detail.refused", "incidents.ammunitionitem"),
        ("trace-requests", "trace_request.detail.refused", "incidents.tracerequest"),
    ],
)
def test_an_api_record_refused_leaves_a_row_with_the_id_and_who_asked(
    client, world, persona, which, resource, action, object_type
):
    pk = hidden_or_missing(world, which, resource)

    response = ask(client, world, persona, f"/api/v1/{resource}/{pk}")

    assert response.status_code == 404
    row = refused_row(action)
    assert_asked_by(row, world, persona)
    assert (row.object_type, row.object_id) == (object_type, str(pk))
    assert (row.channel, row.method, row.path) == ("api", "GET", f"/api/v1/{resource}/{pk}")


@pytest.mark.parametrize("persona", ["partner_agency", "mission_analyst"])
@pytest.mark.parametrize("resource", ["incidents", "weapons", "ammunition", "trace-requests"])
def test_a_record_the_caller_may_read_leaves_no_refused_row(client, world, persona, resource):
    pk = (
        world.records["alpha_verified_L5"].pk
        if resource == "incidents"
        else world.items["alpha_verified_L5"][resource].pk
    )

    assert ask(client, world, persona, f"/api/v1/{resource}/{pk}").status_code == 200
    assert not AuditEvent.objects.filter(action__endswith=".refused").exists()


def test_an_unknown_address_or_collection_is_not_a_refused_read(client, world):
    assert ask(client, world, "partner_agency", "/ogc/collections/nothing").status_code == 404
    assert ask(client, world, "partner_agency", "/api/v1/nothing/1").status_code == 404
    assert not AuditEvent.objects.filter(action__endswith=".refused").exists()


# --- OGC API -----------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["partner_agency", "mission_analyst"])
@pytest.mark.parametrize("which", ["hidden", "missing"])
def test_an_ogc_feature_refused_leaves_a_row(client, world, persona, which):
    pk = hidden_or_missing(world, which)

    response = ask(client, world, persona, f"/ogc/collections/incidents/items/{pk}")

    assert response.status_code == 404
    row = refused_row("ogc.item.refused")
    assert_asked_by(row, world, persona)
    assert (row.object_type, row.object_id, row.channel) == ("incidents.incident", str(pk), "ogc")


def test_an_ogc_feature_id_that_is_not_a_number_is_kept_as_asked(client, world):
    response = ask(client, world, "partner_agency", "/ogc/collections/incidents/items/1%20OR%201")

    assert response.status_code == 404
    assert refused_row("ogc.item.refused").object_id == "1 OR 1"


# --- the HTML incident page ----------------------------------------------------------------


@pytest.mark.parametrize("which", ["hidden", "missing"])
def test_an_incident_page_refused_leaves_a_row_though_its_transaction_rolled_back(
    client, world, which
):
    pk = hidden_or_missing(world, which)

    response = ask(client, world, "mission_analyst", f"/incidents/{pk}/")

    assert response.status_code == 404
    row = refused_row("incident.detail.refused")
    assert_asked_by(row, world, "mission_analyst")
    assert (row.object_type, row.object_id, row.channel) == ("incidents.incident", str(pk), "web")
    assert not AuditEvent.objects.filter(action="incident.detail").exists()


def test_a_visitor_sent_to_sign_in_leaves_no_refused_row(client, world):
    pk = world.records["charlie_verified_L5"].pk
    assert client.get(f"/incidents/{pk}/").status_code == 302
    assert not AuditEvent.objects.exists()


# --- reports -------------------------------------------------------------------------------


def analyst_report(world) -> Report:
    """A finished report of mission_analyst's with one CSV file on disk."""
    report = Report.objects.create(
        template="sdg_16_4_2",
        scope_kind="mission",
        scope_value="MINUSCA",
        scope_label="MINUSCA",
        period_start=date(2025, 3, 1),
        period_end=date(2025, 3, 31),
        requested_by=world.users["mission_analyst"],
        request_key="k" * 64,
        data_fingerprint="f" * 64,
        state=Report.State.DONE,
        progress=100,
        incidents_read=3,
    )
    ReportFile.objects.create(
        report=report,
        name="sdg_16_4_2.csv",
        file_format=ReportFile.Format.CSV,
        content_type="text/csv",
        file=ContentFile(b"indicator,value\n16.4.2,3\n", name="sdg_16_4_2.csv"),
        size=24,
        sha256="0" * 64,
    )
    return report


@pytest.mark.parametrize("which", ["hidden", "missing"])
@pytest.mark.parametrize(
    ("path", "action", "channel"),
    [
        ("/api/v1/reports/{pk}", "report.detail.refused", "api"),
        ("/api/v1/reports/{pk}/files/sdg_16_4_2.csv", "report.download.refused", "api"),
        ("/reports/{pk}", "report.detail.refused", "web"),
        ("/reports/{pk}/files/sdg_16_4_2.csv", "report.download.refused", "web"),
    ],
)
def test_a_report_refused_leaves_a_row(client, world, which, path, action, channel):
    report = analyst_report(world)
    pk = report.pk if which == "hidden" else MISSING

    response = ask(client, world, "other_mission_analyst", path.format(pk=pk))

    assert response.status_code == 404
    row = refused_row(action)
    assert_asked_by(row, world, "other_mission_analyst")
    assert (row.object_type, row.object_id, row.channel) == ("reports.report", str(pk), channel)
    assert not AuditEvent.objects.filter(action__startswith="report.download.csv").exists()


# --- a report's file missing on disk ----------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/v1/reports/{pk}/files/sdg_16_4_2.csv", "/reports/{pk}/files/sdg_16_4_2.csv"]
)
def test_a_report_file_missing_on_disk_answers_404_and_records_no_download(client, world, path):
    report = analyst_report(world)
    stored = report.files.get()
    served = ask(client, world, "mission_analyst", path.format(pk=report.pk))
    assert served.status_code == 200
    assert b"".join(served.streaming_content).startswith(b"indicator,value")
    assert AuditEvent.objects.filter(action="report.download.csv").count() == 1
    stored.file.storage.delete(stored.file.name)

    response = ask(client, world, "mission_analyst", path.format(pk=report.pk))

    assert response.status_code == 404
    assert AuditEvent.objects.filter(action="report.download.csv").count() == 1
    assert refused_row("report.download.refused").object_id == str(report.pk)
