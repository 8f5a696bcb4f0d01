"""Mission areas and contingents' areas are edited on a Leaflet map in the admin, drawn
from the platform's own static files (no CDN: missions often work offline)."""

import pytest
from django.contrib.auth import get_user_model

from organisations.models import Mission


@pytest.fixture
def admin_client(client, db):
    client.force_login(get_user_model().objects.create_superuser("admin", password="x"))
    return client


@pytest.mark.parametrize(
    "url", ["/admin/organisations/mission/add/", "/admin/organisations/contingent/add/"]
)
def test_area_fields_are_leaflet_maps_served_locally(admin_client, url):
    page = admin_client.get(url).content.decode()

    assert "leaflet/leaflet.js" in page
    assert "area_of_operations" in page or "area_of_responsibility" in page
    assert "cdn." not in page and "openlayers" not in page.lower()


def test_an_area_drawn_on_the_map_is_saved_as_a_multipolygon(admin_client):
    area = (
        '{"type": "MultiPolygon", "coordinates": [[[[18, 4], [19, 4], [19, 5], [18, 5], [18, 4]]]]}'
    )

    response = admin_client.post(
        "/admin/organisations/mission/add/",
        {
            "name": "Test mission",
            "acronym": "TM",
            "host_countries": "CAF",
            "area_of_operations": area,
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    mission = Mission.objects.get(acronym="TM")
    assert mission.area_of_operations.geom_type == "MultiPolygon"
    assert mission.area_of_operations.contains(mission.area_of_operations.centroid)
    assert mission.host_countries == ["CAF"]


def test_an_incident_moved_in_the_admin_gets_its_country_and_cell_again(db):
    from django.contrib import admin
    from django.contrib.gis.geos import MultiPolygon, Point, Polygon
    from django.test import RequestFactory

    from geo.models import Country, CountryPart
    from incidents.models import Incident
    from incidents.services import h3_cell_of
    from tests.analysis_layouts import seizure
    from tests.personas import build_world

    build_world()
    square = Polygon.from_bbox((20.0, 6.0, 21.0, 7.0))
    square.srid = 4326
    country = Country.objects.create(
        iso3="CAF", name="Central African Republic", boundary=MultiPolygon(square), source="test"
    )
    CountryPart.objects.create(country=country, part=square)
    incident = seizure(30.0, 0.0, country="")

    incident.location = Point(20.5, 6.5, srid=4326)
    request = RequestFactory().post("/admin/")
    request.user = get_user_model().objects.get(username="admin")
    admin.site._registry[Incident].save_model(request, incident, form=None, change=True)

    incident.refresh_from_db()
    assert incident.country == "CAF"
    assert incident.h3_cell == h3_cell_of(latitude=6.5, longitude=20.5)
