"""Browser sign-in: repeated failures lock the account out; deactivation ends access."""

import pytest
from django.contrib.auth import get_user_model

PASSWORD = "a-long-test-password"


@pytest.fixture
def amina(db):
    return get_user_model().objects.create_user("amina", password=PASSWORD)


def sign_in(client, password: str):
    return client.post("/accounts/login/", {"username": "amina", "password": password})


def test_five_failed_sign_ins_lock_out_even_the_right_password(client, amina, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "wrong-password").status_code == 200  # form shown again
    assert sign_in(client, "wrong-password").status_code == 429  # the last allowed failure

    response = sign_in(client, PASSWORD)

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_success_before_the_limit_resets_the_count(client, amina, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "wrong-password")
    assert sign_in(client, PASSWORD).status_code == 302
    client.logout()

    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "wrong-password")

    assert sign_in(client, PASSWORD).status_code == 302


def test_deactivating_a_user_ends_their_session_at_once(client, amina):
    assert sign_in(client, PASSWORD).status_code == 302
    assert client.get("/api/v1/incidents").status_code == 403  # signed in, no membership yet

    amina.is_active = False
    amina.save()

    response = client.get("/api/v1/incidents")
    assert response.status_code in (401, 403)
    assert client.get("/").context["user"].is_anonymous
