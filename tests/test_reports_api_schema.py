"""The reports API checked against its OpenAPI schema by Schemathesis: generated requests
to list, read, ask for reports and download their files get no 5xx, and every answer is
as the schema says (tests/test_api_schema.py does the same for the other resources)."""

from datetime import date

import pytest

from tests.report_fixtures import build_report_world
from tests.schema_driven import api_schema, generated_cases, use_session_of

# A schema-valid request for a report may be refused with a 400 naming the field: a scope
# that does not exist or that the caller does not work on, a period reversed or too long
# (OpenAPI can state neither which scopes exist nor rules between two fields).
schema = api_schema(r"^(GET|POST) /api/v1/reports", refused_beyond_schema=True)


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
    use_session_of(client, user)
    return world


@schema.parametrize()
@generated_cases
def test_the_reports_api_answers_generated_requests_as_its_schema_says(
    case, analyst, wsgi_requests_keep_the_test_transaction
):
    case.call_and_validate()
