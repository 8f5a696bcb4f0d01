"""The home page and sign-in work for a demo login."""

import pytest
from django.contrib.auth import get_user_model


def test_home_page_is_served(client, db):
    response = client.get("/")
    assert response.status_code == 200
    assert b"ArmsMonitor" in response.content


@pytest.mark.django_db
def test_a_user_signs_in_with_the_login_form(client):
    get_user_model().objects.create_user("amina", password="a-long-test-password")

    response = client.post(
        "/accounts/login/", {"username": "amina", "password": "a-long-test-password"}
    )

    assert response.status_code == 302
    assert client.get("/").context["user"].username == "amina"


def test_home_page_speaks_french(client, db):
    response = client.get("/", headers={"accept-language": "fr"})
    assert response.status_code == 200
    assert b'lang="fr"' in response.content
