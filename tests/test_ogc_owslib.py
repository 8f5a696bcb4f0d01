"""OGC API – Features as owslib's client reads it: every OGC address answers with and
without a trailing slash (owslib asks for the landing page as /ogc/), the links the API
writes have none, and owslib's `Features` reads the incidents collection, page by page,
from a real server with an agency's key in a header — the documented URL, /ogc.
"""

from urllib.parse import parse_qs, urlsplit

import owslib.ogcapi
import pytest
from owslib.ogcapi.features import Features

from organisations.models import APIAccess
from tests.personas import build_world
from tests.test_access_matrix import expected_names, names_by_id
from tests.test_ogc_api import BANGUI_GENERALISED, key_header

ADDRESSES = [
    "/ogc",
    "/ogc/api",
    "/ogc/conformance",
    "/ogc/collections",
    "/ogc/collections/incidents",
    "/ogc/collections/incidents/items",
]


@pytest.fixture
def owslib_headers(monkeypatch):
    # owslib updates its module-wide default headers with the ones a client is given; a
    # copy keeps this test's key from reaching any other client.
    monkeypatch.setattr(owslib.ogcapi, "REQUEST_HEADERS", dict(owslib.ogcapi.REQUEST_HEADERS))


@pytest.mark.parametrize("address", ADDRESSES)
def test_every_ogc_address_answers_with_and_without_a_trailing_slash(client, world, address):
    header = key_header(world, "partner_agency")

    plain = client.get(address, **header)
    slashed = client.get(f"{address}/", **header)

    assert plain.status_code == slashed.status_code == 200
    assert slashed["Content-Type"] == plain["Content-Type"]
    if address != "/ogc/collections/incidents/items":  # its self link and time stamp vary
        assert slashed.content == plain.content


def test_one_feature_answers_with_a_trailing_slash_too(client, world):
    header = key_header(world, "partner_agency")
    pk = world.records["alpha_verified_L5"].pk

    slashed = client.get(f"/ogc/collections/incidents/items/{pk}/", **header)

    assert slashed.status_code == 200
    assert slashed.json()["id"] == pk
    assert client.get(f"/ogc/collections/incidents/items/{pk}", **header).content == (
        slashed.content
    )


def test_the_links_from_a_slashed_landing_page_have_no_trailing_slash(client, world):
    landing = client.get("/ogc/", **key_header(world, "partner_agency")).json()

    hrefs = {link["rel"]: link["href"] for link in landing["links"]}
    assert hrefs["self"] == "http://testserver/ogc"
    assert hrefs["data"] == "http://testserver/ogc/collections"
    assert not any(href.endswith("/") for href in hrefs.values())


@pytest.mark.django_db(transaction=True)
def test_owslib_features_reads_the_incidents_collection_page_by_page(live_server, owslib_headers):
    world = build_world()
    key = world.api_keys["partner_agency"]

    service = Features(f"{live_server.url}/ogc", headers={"Authorization": f"Api-Key {key}"})

    assert service.conformance()["conformsTo"]
    assert service.feature_collections() == ["incidents"]
    assert service.collection("incidents")["extent"]["spatial"]["bbox"]
    features, query = [], {"limit": 2}
    while True:
        page = service.collection_items("incidents", **query)
        assert page["numberReturned"] == len(page["features"]) <= 2
        features += page["features"]
        following = [link["href"] for link in page["links"] if link["rel"] == "next"]
        if not following:
            break
        query = {name: values[0] for name, values in parse_qs(urlsplit(following[0]).query).items()}

    ids = names_by_id(world)
    assert sorted(ids[feature["id"]] for feature in features) == sorted(
        expected_names(world, "partner_agency")
    )
    assert len(features) > 2, "more than one page was read"
    assert page["numberMatched"] == len(features)
    for feature in features:
        assert tuple(feature["geometry"]["coordinates"]) == BANGUI_GENERALISED
    one = service.collection_item("incidents", str(features[0]["id"]))
    assert one["id"] == features[0]["id"]
    pulls = APIAccess.objects.filter(agency=world.agencies["partner_agency"])
    assert pulls.filter(path="/ogc/collections/incidents/items").count() > 1


@pytest.mark.django_db(transaction=True)
def test_owslib_without_a_key_reads_nothing(live_server, owslib_headers):
    build_world()

    service = Features(f"{live_server.url}/ogc")

    assert service.links == []  # the landing page was the 401 document
    assert service.response["code"] == "not_authenticated"
    with pytest.raises(RuntimeError, match="not_authenticated"):
        service.feature_collections()
