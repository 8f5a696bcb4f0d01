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


@pytest.mark.django_db
def test_the_records_pages_speak_french_when_asked(client):
    from tests.personas import build_world

    world = build_world()
    client.force_login(world.users["reporter_alpha"])

    page = client.get("/incidents/", headers={"accept-language": "fr"}).content.decode()
    assert "Enregistrer une saisie" in page
    assert "Brouillon" in page  # a workflow state's label
    client.post("/i18n/setlang/", {"language": "en"})
    assert "Record a seizure" in client.get("/incidents/").content.decode()
