"""Browser sign-in: repeated failures lock a user name out on an address, and many failures
lock the address out whatever the names (password spraying); a session ends after hours of
inactivity (SESSION_IDLE_HOURS); deactivation ends access."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.utils import timezone

from tests.test_settings import run_manage

PASSWORD = "a-long-test-password"
PRINT_SESSION_AGE = "from django.conf import settings; print(settings.SESSION_COOKIE_AGE)"


@pytest.fixture
def amina(db):
    return get_user_model().objects.create_user("amina", password=PASSWORD)


def attempt_sign_in(client, password: str):
    return client.post("/accounts/login/", {"username": "amina", "password": password})


def test_five_failed_sign_ins_lock_out_even_the_right_password(client, amina, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt_sign_in(client, "wrong-password").status_code == 200  # form shown again
    assert attempt_sign_in(client, "wrong-password").status_code == 429  # the last allowed failure

    response = attempt_sign_in(client, PASSWORD)

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_success_before_the_limit_resets_the_count(client, amina, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt_sign_in(client, "wrong-password")
    assert attempt_sign_in(client, PASSWORD).status_code == 302
    client.logout()

    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt_sign_in(client, "wrong-password")

    assert attempt_sign_in(client, PASSWORD).status_code == 302


def test_deactivating_a_user_ends_their_session_at_once(client, amina):
    assert attempt_sign_in(client, PASSWORD).status_code == 302
    assert client.get("/api/v1/incidents").status_code == 403  # signed in, no membership yet

    amina.is_active = False
    amina.save()

    response = client.get("/api/v1/incidents")
    assert response.status_code in (401, 403)
    assert client.get("/").context["user"].is_anonymous


# --- password spraying: one address, one password, many user names ---------------------------


def attempt_sign_in_from(client, username: str, password: str, address: str):
    return client.post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_one_address_spraying_one_password_over_many_names_gets_locked_out(client, amina, settings):
    # Each name fails once, far under its own limit; the address reaches its limit.
    assert settings.AXES_ADDRESS_FAILURE_LIMIT > settings.AXES_FAILURE_LIMIT
    for number in range(settings.AXES_ADDRESS_FAILURE_LIMIT - 1):
        assert (
            attempt_sign_in_from(client, f"user{number}", "Summer2025!", "203.0.113.9").status_code
            == 200
        )
    assert (
        attempt_sign_in_from(client, "last-name", "Summer2025!", "203.0.113.9").status_code == 429
    )

    # Locked out: even a real account's right password from that address.
    response = attempt_sign_in_from(client, "amina", PASSWORD, "203.0.113.9")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session

    # Another address is not.
    assert attempt_sign_in_from(client, "amina", PASSWORD, "198.51.100.7").status_code == 302


def test_under_the_address_limit_a_user_of_the_same_address_still_signs_in(client, amina, settings):
    # Colleagues behind one NAT address mistyping their passwords do not lock each other out.
    for number in range(settings.AXES_ADDRESS_FAILURE_LIMIT - 2):
        attempt_sign_in_from(client, f"colleague{number}", "mistyped", "203.0.113.9")

    assert attempt_sign_in_from(client, "amina", PASSWORD, "203.0.113.9").status_code == 302


def test_the_address_limit_has_its_own_setting(client, amina, settings):
    settings.AXES_ADDRESS_FAILURE_LIMIT = settings.AXES_FAILURE_LIMIT + 1
    for number in range(settings.AXES_ADDRESS_FAILURE_LIMIT):
        attempt_sign_in_from(client, f"user{number}", "Summer2025!", "203.0.113.9")

    assert attempt_sign_in_from(client, "amina", PASSWORD, "203.0.113.9").status_code == 429


# --- session lifetime: hours of inactivity, not weeks --------------------------------------


def stored_session(client) -> Session:
    return Session.objects.get(session_key=client.session.session_key)


def test_a_web_session_lasts_eight_idle_hours_by_default(client, amina, settings):
    assert (settings.SESSION_COOKIE_AGE, settings.SESSION_SAVE_EVERY_REQUEST) == (8 * 3600, True)

    response = attempt_sign_in(client, PASSWORD)

    assert response.status_code == 302
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 8 * 3600
    left = stored_session(client).expire_date - timezone.now()
    assert timedelta(hours=7, minutes=59) < left <= timedelta(hours=8)


def test_each_request_moves_the_end_of_the_session_on(client, amina):
    attempt_sign_in(client, PASSWORD)
    # As if the user had been idle for almost the whole lifetime.
    Session.objects.filter(pk=client.session.session_key).update(
        expire_date=timezone.now() + timedelta(minutes=1)
    )

    assert client.get("/").context["user"] == amina

    left = stored_session(client).expire_date - timezone.now()
    assert left > timedelta(hours=7, minutes=59)


def test_a_session_idle_past_its_lifetime_is_signed_out(client, amina):
    attempt_sign_in(client, PASSWORD)
    Session.objects.filter(pk=client.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )

    assert client.get("/").context["user"].is_anonymous
    assert client.get("/api/v1/incidents").status_code in (401, 403)


@pytest.mark.parametrize(("hours", "age"), [("2", "7200"), ("0.5", "1800")])
def test_the_idle_lifetime_is_read_from_session_idle_hours(hours, age):
    result = run_manage(
        "shell", "-c", PRINT_SESSION_AGE, environment={"SESSION_IDLE_HOURS": hours, "DEBUG": "true"}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == age


@pytest.mark.parametrize("hours", ["0", "-1", "400"])
def test_an_idle_lifetime_out_of_range_is_refused_at_start(hours):
    result = run_manage(
        "shell", "-c", PRINT_SESSION_AGE, environment={"SESSION_IDLE_HOURS": hours, "DEBUG": "true"}
    )
    assert result.returncode != 0
    assert "SESSION_IDLE_HOURS" in result.stderr


def test_signing_out_has_the_browser_wipe_what_the_platform_kept_on_the_device(client, amina):
    client.force_login(amina)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Clear-Site-Data"] == '"cache", "storage"'
    assert "_auth_user_id" not in client.session
