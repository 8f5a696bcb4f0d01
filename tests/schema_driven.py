"""What the Schemathesis tests share (tests/test_api_schema.py, test_reports_api_schema.py):
the API's own schema loaded through the platform's WSGI application, requests signed in as
the test's user, and the same generated cases on every run."""

import schemathesis
from django.conf import settings
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from armsmonitor.wsgi import application

MAX_EXAMPLES = 25
# The credentials of the test being run: each test has a world (and a session) of its own.
CREDENTIALS: dict[str, dict[str, str]] = {}

# The same generated requests on every run: CI must not pass or fail by the draw.
# (Explore more locally with hypothesis' --hypothesis-seed and derandomize off.)
generated_cases = hypothesis_settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def api_schema(operations: str):
    """The operations of the API's schema that `operations` (a regular expression over
    "METHOD /path") names, each request signed in with CREDENTIALS."""
    # The schema view reads no records. Not `schemathesis.pytest.from_fixture`: its lazy
    # tests need a pytest < 9.
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema?format=json", application).include(
        name_regex=operations
    )
    # The test authenticates the calls itself: no generated Authorization header or cookie.
    schema.config.generation.update(max_examples=MAX_EXAMPLES, with_security_parameters=False)
    # Examples and fuzzing only: the coverage phase's cases skip the auth provider below (so
    # they would all be 401), and it multiplies the cases by every enum value of every filter.
    schema.config.phases.coverage.enabled = False
    # A schema-valid request may still be refused with a 400 naming the field: a reversed
    # date range, a bbox with minx > maxx, an unknown scope. OpenAPI cannot say those rules.
    schema.config.checks.positive_data_acceptance.expected_statuses = [
        "2XX",
        "400",
        "401",
        "403",
        "404",
    ]

    @schema.auth(refresh_interval=None)
    class SignedInUser:
        """Schemathesis signs every request in as the test's user; its auth checks then
        send the same requests without the session, and with a made-up one, expecting 401."""

        def get(self, case, context):
            return CREDENTIALS

        def set(self, case, data, context):
            case.cookies = {**(case.cookies or {}), **data.get("cookies", {})}
            case.headers = {**(case.headers or {}), **data.get("headers", {})}

    return schema


def sign_in(client, user) -> None:
    """The generated requests carry `user`'s session cookie, and a CSRF token for writes
    (until the test ends: the `wsgi_requests_keep_the_test_transaction` fixture clears
    them, in tests/conftest.py)."""
    client.force_login(user)
    token = "a" * 32
    CREDENTIALS["cookies"] = {
        settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value,
        "csrftoken": token,
    }
    CREDENTIALS["headers"] = {"X-CSRFToken": token}
