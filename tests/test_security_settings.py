"""Secure defaults: HSTS and the policy headers in production, sessions and keys that stop
working the moment their user or agency is deactivated, and query parameters that accept
only the fields they name (no `__` traversal into related records)."""

import json
import os
import subprocess
import sys

import pytest
from django.contrib.auth import get_user_model

from incidents.models import Incident
from tests.test_settings import PRODUCTION_ENVIRONMENT, PROJECT_DIR

# --- production headers --------------------------------------------------------------

PROBE = """
import json, django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="armsmonitor.example.org")
# An API answer needs neither collected static files nor a database: a refusal will do.
answers = {
    "https": client.get("/api/v1/incidents", secure=True),
    "http": client.get("/api/v1/incidents"),
}
print(json.dumps({name: {"status": answer.status_code, **dict(answer.headers)}
                  for name, answer in answers.items()}))
"""


def test_production_answers_carry_hsts_and_send_plain_http_to_https():
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=PROJECT_DIR,
        env={
            **environment,
            **PRODUCTION_ENVIRONMENT,
            "ARMSMONITOR_ENV_FILE": "/dev/null",
            "DJANGO_SETTINGS_MODULE": "armsmonitor.settings",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout.strip().splitlines()[-1])

    secure = answers["https"]
    assert secure["status"] in (401, 403)
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert secure["X-Content-Type-Options"] == "nosniff"
    assert secure["Referrer-Policy"] == "same-origin"
    assert "script-src 'self'" in secure["Content-Security-Policy"]
    assert (
        "unsafe-inline"
        not in secure["Content-Security-Policy"].split("script-src")[1].split(";")[0]
    )
    assert answers["http"]["status"] == 301
    assert answers["http"]["Location"].startswith("https://armsmonitor.example.org/")


# --- deactivation takes effect at once ---------------------------------------------


def test_a_deactivated_users_open_session_stops_at_the_next_request(client, world):
    verifier = world.users["verifier"]
    client.force_login(verifier)
    assert client.get("/incidents/").status_code == 200
    assert client.get("/api/v1/incidents").status_code == 200

    get_user_model().objects.filter(pk=verifier.pk).update(is_active=False)

    page = client.get("/incidents/")
    assert page.status_code == 302 and page["Location"].startswith("/accounts/login/")
    assert client.get("/api/v1/incidents").status_code in (401, 403)
    assert client.get(f"/incidents/{world.records['alpha_verified_L1'].pk}/").status_code == 302


def test_a_deactivated_agencys_key_is_refused_at_once(client, world):
    header = {"HTTP_AUTHORIZATION": f"Api-Key {world.api_keys['partner_agency']}"}
    assert client.get("/api/v1/incidents", **header).status_code == 200

    agency = world.agencies["partner_agency"]
    agency.is_active = False
    agency.save(update_fields=["is_active"])

    refused = client.get("/api/v1/incidents", **header)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]
    assert client.get("/ogc/collections/incidents/items", **header).status_code == 401


def test_a_revoked_key_is_refused_at_once(client, world):
    header = {"HTTP_AUTHORIZATION": f"Api-Key {world.api_keys['partner_agency']}"}
    world.agencies["partner_agency"].api_keys.update(revoked=True)
    assert client.get("/api/v1/incidents", **header).status_code == 401


# --- query parameters: allow-listed fields only ------------------------------------


def test_ordering_by_a_field_of_a_related_record_is_refused_naming_the_parameter(client, world):
    client.force_login(world.users["verifier"])
    for value in ("reported_by__password", "contingent__mission__name", "-reported_by__email"):
        response = client.get("/api/v1/incidents", {"ordering": value})
        assert response.status_code == 400, value
        assert "ordering" in response.json(), response.json()


def test_filters_that_reach_into_related_records_are_ignored_not_applied(client, world):
    """django-filter reads only the filters it declares: a parameter such as
    reported_by__username=verifier cannot narrow (or probe) the list."""
    client.force_login(world.users["verifier"])
    everything = client.get("/api/v1/incidents", {"limit": 100}).json()["results"]
    for probe in (
        {"reported_by__username": "nobody-at-all"},
        {"contingent__mission__acronym": "NOTHING"},
        {"weapons__serial_number__startswith": "ZZZ"},
        {"reported_by__password__startswith": "pbkdf2"},
    ):
        answer = client.get("/api/v1/incidents", {"limit": 100, **probe})
        assert answer.status_code == 200
        assert answer.json()["results"] == everything, probe


def test_the_html_list_ignores_orderings_outside_the_list(client, world):
    client.force_login(world.users["verifier"])
    page = client.get("/incidents/", {"ordering": "reported_by__password"})
    assert page.status_code == 200
    assert page.context["filter"].errors.get("ordering")


def test_the_allowed_orderings_are_the_incidents_own_columns():
    from incidents.filtersets import IncidentFilterSet

    ordering = IncidentFilterSet.base_filters["ordering"]
    names = [name for name, _label in ordering.extra["choices"]]
    assert names, names
    assert all("__" not in name for name in names), names
    fields = {field.name for field in Incident._meta.concrete_fields}
    assert {name.lstrip("-") for name in names} <= fields


# --- the dependency audit -----------------------------------------------------------


@pytest.mark.parametrize("service", ["osv", "pypi"])
def test_make_audit_never_passes_without_having_checked_every_package(service):
    """Here no vulnerability service answers (only package registries are reachable):
    the audit must say so and fail, not print "No known vulnerabilities found" as pip-audit
    does when it skipped every package. Where a service answers, it checks them all."""
    result = subprocess.run(
        ["make", "--no-print-directory", "audit"],
        cwd=PROJECT_DIR,
        env={**os.environ, "AUDIT_SERVICE": service},
        capture_output=True,
        text=True,
        timeout=900,
    )
    if "DEPENDENCY AUDIT NOT DONE" in result.stderr:
        assert result.returncode != 0
        assert "Error 3" in result.stderr
        assert ("api.osv.dev" if service == "osv" else "pypi.org") in result.stderr
    else:
        assert result.returncode in (0, 2), result.stderr  # 2: make's status for a finding
        assert "pinned packages checked against" in result.stdout
