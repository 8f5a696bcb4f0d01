"""What the Schemathesis tests share (tests/test_api_schema.py, test_reports_api_schema.py):
the API's own schema loaded through the platform's WSGI application, requests signed in as
the test's user, and the same generated cases on every run."""

import schemathesis
from django.conf import settings
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

import tests.schemathesis_hooks  # noqa: F401  (registers the hooks before any schema loads)
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


def api_schema(
    operations: str = ".*", *, excluding: str | None = None, refused_beyond_schema: bool = False
):
    """The operations of the API's schema that `operations` (a regular expression over
    "METHOD /path") names, but those `excluding` names, each request signed in with
    CREDENTIALS. `refused_beyond_schema`: the operations may refuse a schema-valid request
    with a 400, for a reason the caller must give where they are used."""
    # The schema view reads no records. Not `schemathesis.pytest.from_fixture`: its lazy
    # tests need a pytest < 9.
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema?format=json", application).include(
        name_regex=operations
    )
    if excluding:
        schema = schema.exclude(name_regex=excluding)
    # The test authenticates the calls itself: no generated Authorization header or cookie.
    schema.config.generation.update(max_examples=MAX_EXAMPLES, with_security_parameters=False)
    # Examples and fuzzing only: the coverage phase's cases skip the auth provider below (so
    # they would all be 401), and it multiplies the cases by every enum value of every filter.
    schema.config.phases.coverage.enabled = False
    # Every check, positive data acceptance included, with its default statuses: a request
    # the schema calls valid is not refused with a 400. What OpenAPI cannot state (bounds
    # given reversed, a polygon's validity) tests/schemathesis_hooks.py keeps out of valid
    # cases.
    schema.config.checks.update(included_check_names=["all"])
    if refused_beyond_schema:
        schema.config.checks.positive_data_acceptance.expected_statuses = [
            *schema.config.checks.positive_data_acceptance.expected_statuses,
            "400",
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


def use_key(raw_key: str) -> None:
    """The generated requests carry an agency's API key."""
    CREDENTIALS["cookies"] = {}
    CREDENTIALS["headers"] = {"Authorization": f"Api-Key {raw_key}"}


def use_session_of(client, user) -> None:
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
