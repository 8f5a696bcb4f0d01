"""Headers that keep records out of caches."""

import pytest


@pytest.mark.django_db
def test_records_are_never_stored_by_browsers_or_proxies(client):
    from tests.personas import build_world

    world = build_world()
    key = {"HTTP_AUTHORIZATION": f"Api-Key {world.api_keys['partner_agency']}"}
    incident = world.records["alpha_verified_L5"]

    api = client.get("/api/v1/incidents", **key)
    refused = client.get("/api/v1/incidents")
    ogc = client.get("/ogc/collections/incidents/items", **key)
    client.force_login(world.users["mission_analyst"])
    page = client.get(f"/incidents/{incident.pk}/")
    client.logout()
    public_home = client.get("/")

    for response in (api, refused, ogc, page):
        assert "no-store" in response["Cache-Control"], response.request["PATH_INFO"]
    assert not public_home.has_header("Cache-Control")
