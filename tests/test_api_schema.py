"""The API's OpenAPI schema: served, valid, offline docs; and the API checked against it by
Schemathesis (generated requests: no 5xx, every answer as the schema says)."""

import pytest
import yaml
from django.core.management import call_command

from tests.personas import build_world
from tests.schema_driven import api_schema, generated_cases, use_key, use_session_of

# --- the schema and its docs ---------------------------------------------------------------


def test_the_schema_is_served_to_anyone_as_yaml_and_json(client):
    as_yaml = client.get("/api/v1/schema")
    as_json = client.get("/api/v1/schema?format=json")

    assert as_yaml.status_code == 200 and as_json.status_code == 200
    schema = yaml.safe_load(as_yaml.content)
    assert schema == as_json.json()
    assert schema["openapi"].startswith("3.")
    assert {
        "/api/v1/incidents",
        "/api/v1/incidents/{id}",
        "/api/v1/incidents/export.csv",
        "/api/v1/incidents/export.xlsx",
        "/api/v1/incidents/export.geojson",
        "/api/v1/analyses",
        "/api/v1/analyses/{id}",
        "/api/v1/analyses/{id}/cancel",
        "/api/v1/analyses/{id}/cells.geojson",
        "/api/v1/analyses/{id}/clusters.geojson",
        "/api/v1/weapons",
        "/api/v1/weapons/{id}",
        "/api/v1/ammunition",
        "/api/v1/trace-requests",
        "/api/v1/missions",
        "/api/v1/missions/{acronym}",
        "/api/v1/boundaries",
        "/api/v1/boundaries/{iso3}",
        "/api/v1/regions",
        "/api/v1/regions/{code}",
    } <= set(schema["paths"])


def test_the_schema_describes_the_api_key_the_filters_the_exports_and_the_errors(client):
    schema = client.get("/api/v1/schema?format=json").json()
    paths = schema["paths"]

    assert schema["components"]["securitySchemes"]["agencyApiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": schema["components"]["securitySchemes"]["agencyApiKey"]["description"],
    }
    assert "Api-Key <key>" in schema["components"]["securitySchemes"]["agencyApiKey"]["description"]
    listing = paths["/api/v1/incidents"]["get"]
    filters = {parameter["name"] for parameter in listing["parameters"]}
    assert {"kind", "mission", "country", "occurred_after", "occurred_before"} <= filters
    for extension, media_type in {
        "csv": "text/csv",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "geojson": "application/geo+json",
    }.items():
        export = paths[f"/api/v1/incidents/export.{extension}"]["get"]
        assert list(export["responses"]["200"]["content"]) == [media_type]
        paging = {"limit", "offset", "cursor", "page_size"}
        assert filters - paging <= {parameter["name"] for parameter in export["parameters"]}
    assert {"400", "401", "403", "429"} <= set(listing["responses"])
    assert "Retry-After" in listing["responses"]["429"]["headers"]
    start = paths["/api/v1/analyses"]["post"]
    assert {"200", "202", "400", "403"} <= set(start["responses"])
    assert list(start["requestBody"]["content"]) == ["application/json"]


def test_the_schema_validates_without_warnings():
    # What `manage.py spectacular --validate --fail-on-warn` checks.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")


@pytest.mark.parametrize("path", ["/api/v1/docs", "/api/v1/redoc"])
def test_the_docs_pages_load_their_scripts_from_the_platform_not_a_cdn(client, path):
    response = client.get(path)

    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/" in page
    assert "cdn.jsdelivr.net" not in page and "unpkg.com" not in page


# --- Schemathesis: requests generated from the schema ------------------------------------

# Every operation but the reports' (tests/test_reports_api_schema.py: they need a report
# of their own to read), with every check, once signed in and once with an agency's key.
schema = api_schema(excluding=r"^(GET|POST) /api/v1/reports")


@pytest.fixture
def analyst(db, client):
    """The MINUSCA analyst, signed in."""
    world = build_world()
    use_session_of(client, world.users["mission_analyst"])
    return world


@pytest.fixture
def partner_agency(db):
    """An agency whose key reads MINUSCA's records from "partner agencies" up, generalised."""
    world = build_world()
    use_key(world.api_keys["partner_agency"])
    return world


@schema.parametrize()
@generated_cases
def test_the_api_answers_generated_requests_as_its_schema_says(
    case, analyst, wsgi_requests_keep_the_test_transaction
):
    case.call_and_validate()


@schema.parametrize()
@generated_cases
def test_the_api_answers_an_agency_key_as_its_schema_says(
    case, partner_agency, wsgi_requests_keep_the_test_transaction
):
    case.call_and_validate()
