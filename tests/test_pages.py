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
    client.post("/language", {"language": "en"})
    assert "Record a seizure" in client.get("/incidents/").content.decode()


@pytest.mark.django_db
def test_a_users_language_choice_follows_them_to_another_browser(client):
    from django.test import Client

    user = get_user_model().objects.create_user("amina", password="a-long-test-password")
    client.force_login(user)
    response = client.post("/language", {"language": "fr", "next": "/incidents/"})
    assert response.status_code == 302

    other_browser = Client()  # no language cookie, a browser set to English
    other_browser.force_login(user)
    page = other_browser.get("/", headers={"accept-language": "en"})
    assert 'lang="fr"' in page.content.decode()


@pytest.mark.django_db
def test_an_unknown_language_is_not_stored_and_anonymous_choices_use_the_cookie(client):
    from organisations.models import UserPreferences

    user = get_user_model().objects.create_user("amina", password="a-long-test-password")
    client.force_login(user)
    client.post("/language", {"language": "xx"})
    assert not UserPreferences.objects.filter(user=user).exists()
    assert b'lang="en"' in client.get("/").content

    client.logout()
    client.post("/language", {"language": "fr"})
    assert b'lang="fr"' in client.get("/").content
