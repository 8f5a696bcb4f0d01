"""The seizure's legal justification and documented route (issue 19; the IAFQ's seizure and
significant-seizure sections): recorded through the entry form, the API and the import,
read back by the API and the record page, the countries checked by name in each. (The
export round trip is tests/test_export_round_trip.py.)"""

import pytest

from incidents.models import Incident
from tests.test_api_writes import body, created, post
from tests.test_import import HEADER, csv_file, run_import
from tests.test_records_pages import entry_data

pytestmark = pytest.mark.usefixtures("countries_110m")  # before `world`: its records fall in them

ROUTE = {
    "seizure_justification": "embargo",
    "transport_mode": "road",
    "route_departure_country": "SDN",
    "route_transit_countries": ["TCD", "CMR"],
    "route_destination_country": "CAF",
}


def test_the_entry_form_records_the_route_in_capitals_and_names_a_bad_country(client, world):
    client.force_login(world.users["reporter_alpha"])
    data = entry_data(world, **{**ROUTE, "route_transit_countries": "tcd, cmr"})
    data["route_departure_country"] = "sdn"

    response = client.post("/incidents/new", data)

    assert response.status_code == 302, response.content.decode()[:2000]
    incident = Incident.objects.get(pk=response.url.strip("/").split("/")[-1])
    assert {name: getattr(incident, name) for name in ROUTE} == ROUTE
    page = client.get(response.url).content.decode()
    assert "SDN → TCD → CMR → CAF" in page and "Breach of an arms embargo" in page

    refused = client.post("/incidents/new", entry_data(world, route_transit_countries="TCD, XXX"))
    assert refused.status_code == 200
    assert "XXX is not an ISO 3166-1 alpha-3 country code" in refused.content.decode()


def test_the_api_records_and_reads_the_route_and_names_a_bad_field(client, world):
    response = post(client, world, "reporter_alpha", body(world, **ROUTE))

    assert response.status_code == 201, response.content
    [incident] = created(world)
    detail = client.get(f"/api/v1/incidents/{incident}").json()
    assert {name: detail[name] for name in ROUTE} == ROUTE

    refused = post(
        client, world, "reporter_alpha", body(world, transport_mode="camel"), key="key-2"
    )
    assert refused.status_code == 400
    assert "transport_mode" in refused.json()


def _route_row(transit: str) -> list[str]:
    return [
        "RT-001",
        "2025-06-01T08:30",
        "4.394",
        "18.558",
        "checkpoint_seizure",
        "criminal",
        "1",
        "assault_rifle",
        "Norinco",
        "5600001",
        "1",
        "Trafficking",
        "boat",
        "sdn",
        transit,
        "CAF",
    ]


def test_the_import_reads_the_route_and_refuses_an_unknown_transit_country(world):
    header = [
        *HEADER,
        "seizure_justification",
        "transport_mode",
        "route_departure_country",
        "route_transit_countries",
        "route_destination_country",
    ]

    report = run_import(world, csv_file([_route_row("tcd; CMR,COD")], header))

    assert report.ok, report.as_dict()
    incident = Incident.objects.get(external_reference="RT-001")
    assert (incident.seizure_justification, incident.transport_mode) == ("trafficking", "boat")
    assert incident.route_departure_country == "SDN"
    assert incident.route_transit_countries == ["TCD", "CMR", "COD"]

    refused = run_import(world, csv_file([_route_row("TCD; XXX")], header))
    assert [(problem.row, problem.column) for problem in refused.problems] == [
        (2, "route_transit_countries")
    ]
    assert "'XXX' is not an ISO 3166-1 alpha-3" in refused.problems[0].message
