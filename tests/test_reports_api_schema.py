"""The reports API checked against its OpenAPI schema by Schemathesis: generated requests
to list, read, ask for reports and download their files get no 5xx, and every answer is
as the schema says (tests/test_api_schema.py does the same for the other resources)."""

from datetime import date

import pytest
import schemathesis
from django.conf import settings as settings_module
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from armsmonitor.wsgi import application
from tests.report_fixtures import build_report_world

MAX_EXAMPLES = 25
OPERATIONS = r"^(GET|POST) /api/v1/reports"

schema = schemathesis.openapi.from_wsgi("/api/v1/schema?format=json", application).include(
    name_regex=OPERATIONS
)
schema.config.generation.update(max_examples=MAX_EXAMPLES, with_security_parameters=False)
schema.config.phases.coverage.enabled = False
# A schema-valid request may still be refused with a 400 naming the field: a reversed
# period, an unknown scope or one the caller does not work on.
schema.config.checks.positive_data_acceptance.expected_statuses = [
    "2XX",
    "400",
    "401",
    "403",
    "404",
]

CREDENTIALS: dict[str, dict[str, str]] = {}


@schema.auth(refresh_interval=None)
class SignedInAnalyst:
    def get(self, case, context):
        return CREDENTIALS

    def set(self, case, data, context):
        case.cookies = {**(case.cookies or {}), **data.get("cookies", {})}
        case.headers = {**(case.headers or {}), **data.get("headers", {})}


@pytest.fixture
def _wsgi_requests_keep_the_test_transaction():
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def analyst(db, client, settings, tmp_path):
    """The MINUSCA analyst, signed in, with one generated report to read and download."""
    from reports.services import report_generate, report_request

    settings.MEDIA_ROOT = str(tmp_path)
    world = build_report_world()
    user = world.users["mission_analyst"]
    report = report_request(
        requester=user,
        template="sdg_16_4_2",
        scope_kind="mission",
        scope="MINUSCA",
        period_start=date(2025, 3, 1),
        period_end=date(2025, 3, 31),
    )
    report_generate(report_id=report.pk, worker="test")
    client.force_login(user)
    token = "a" * 32
    CREDENTIALS["cookies"] = {
        settings_module.SESSION_COOKIE_NAME: client.cookies[
            settings_module.SESSION_COOKIE_NAME
        ].value,
        "csrftoken": token,
    }
    CREDENTIALS["headers"] = {"X-CSRFToken": token}
    yield world
    CREDENTIALS.clear()


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_reports_api_answers_generated_requests_as_its_schema_says(
    case, analyst, _wsgi_requests_keep_the_test_transaction
):
    case.call_and_validate()
