"""OGC API – Features under /ogc: what GIS clients (QGIS, GDAL's OAPIF driver) read.

The same access policy as the REST API, checked persona by persona; the standard's
documents, parameters and errors; and GDAL's ogr2ogr reading the collection into a
GeoPackage through a real HTTP server.
"""

import csv
import io
import sqlite3
import subprocess
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from organisations.access import GENERALISED_CELL_DEGREES
from organisations.models import APIAccess
from organisations.services import agency_api_key_create
from tests.personas import build_world, sign_in
from tests.test_access_matrix import (
    EXACT_COORDINATES,
    READERS,
    assert_coordinates,
    expected_names,
    names_by_id,
)

ITEMS = "/ogc/collections/incidents/items"
CONFORMANCE_CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
CONFORMANCE_GEOJSON = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"
# The 0.25° cell point the Bangui records (18.583713, 4.367141) are generalised to.
BANGUI_GENERALISED = (18.5, 4.25)


def key_header(world, agency: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Api-Key {world.api_keys[agency]}"}


def all_pages(client, url: str, headers: dict) -> list[dict]:
    """Every page from `url` on, following `next` links as a client would."""
    pages = []
    while url:
        response = client.get(url, **headers)
        assert response.status_code == 200, response.content
        page = response.json()
        pages.append(page)
        following = [link for link in page["links"] if link["rel"] == "next"]
        assert len(following) <= 1
        if following:
            assert following[0]["type"] == "application/geo+json"
            parts = urlsplit(following[0]["href"])
            url = f"{parts.path}?{parts.query}"
        else:
            url = None
    return pages


# --- the documents a client reads before the features ---------------------------------------


def test_landing_page_links_the_definition_the_conformance_and_the_collections(client, world):
    response = client.get("/ogc", **key_header(world, "partner_agency"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    links = {link["rel"]: link for link in response.json()["links"]}
    assert links["self"]["href"] == "http://testserver/ogc"
    assert links["conformance"] == {
        "href": "http://testserver/ogc/conformance",
        "rel": "conformance",
        "type": "application/json",
        "title": "Conformance classes",
    }
    assert links["data"]["href"] == "http://testserver/ogc/collections"
    assert links["data"]["type"] == "application/json"
    assert links["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"


def test_the_api_definition_is_openapi_3_with_the_limits_qgis_reads(client, world):
    headers = key_header(world, "partner_agency")
    accept = "application/vnd.oai.openapi+json;version=3.0, application/json"

    response = client.get("/ogc/api", HTTP_ACCEPT=accept, **headers)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.oai.openapi+json;version=3.0"
    definition = response.json()
    assert definition["openapi"].startswith("3.0")
    assert definition["components"]["parameters"]["limit"]["schema"]["maximum"] == 10_000
    assert definition["components"]["parameters"]["limit"]["schema"]["default"] == 100
    assert "/collections/incidents/items" in definition["paths"]
    conformance = client.get("/ogc/conformance", **headers).json()["conformsTo"]
    assert {CONFORMANCE_CORE, CONFORMANCE_GEOJSON} <= set(conformance)


def test_the_collection_extent_is_that_of_the_locations_the_caller_may_see(client, world):
    generalised = client.get(
        "/ogc/collections/incidents", **key_header(world, "partner_agency")
    ).json()
    exact = client.get("/ogc/collections/incidents", **key_header(world, "host_agency")).json()

    assert generalised["id"] == "incidents"
    assert generalised["itemType"] == "feature"
    assert generalised["crs"] == ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]
    assert generalised["extent"]["spatial"]["bbox"] == [[*BANGUI_GENERALISED] * 2]
    assert generalised["extent"]["temporal"]["interval"] == [
        ["2025-03-14T09:30:00Z", "2025-03-14T09:30:00Z"]
    ]
    goma = world.records["charlie_verified_L5"].location
    assert exact["extent"]["spatial"]["bbox"] == [[goma.x, goma.y, goma.x, goma.y]]
    items = [link for link in generalised["links"] if link["rel"] == "items"]
    assert items[0]["type"] == "application/geo+json"
    listed = client.get("/ogc/collections", **key_header(world, "partner_agency")).json()
    assert listed["collections"] == [generalised]


def test_a_caller_who_sees_nothing_gets_a_collection_without_extent(client, world):
    response = client.get("/ogc/collections/incidents", **key_header(world, "lapsed_agency"))

    assert response.status_code == 200
    assert "extent" not in response.json()


# --- the features: exactly what each persona may see ----------------------------------------


@pytest.mark.parametrize("persona", READERS)
def test_items_hold_exactly_the_records_the_persona_may_see_with_their_shown_location(
    client, world, persona
):
    headers = sign_in(client, world, persona)

    pages = all_pages(client, f"{ITEMS}?limit=2", headers)

    features = [feature for page in pages for feature in page["features"]]
    ids = names_by_id(world)
    shown = {ids[feature["id"]]: tuple(feature["geometry"]["coordinates"]) for feature in features}
    assert len(shown) == len(features), "no feature twice across pages"
    assert set(shown) == expected_names(world, persona)
    assert_coordinates(world, persona, shown)
    expected_total = len(expected_names(world, persona))
    assert {page["numberMatched"] for page in pages} == {expected_total}
    assert [page["numberReturned"] for page in pages] == [len(p["features"]) for p in pages]
    assert all(
        feature["properties"]["location_is_exact"] is EXACT_COORDINATES[persona]
        for feature in features
    )


def test_a_feature_carries_the_api_fields_and_the_page_its_links(client, world):
    response = client.get(f"{ITEMS}?limit=1", **key_header(world, "partner_agency"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    page = response.json()
    assert page["type"] == "FeatureCollection"
    assert (page["numberMatched"], page["numberReturned"]) == (3, 1)
    assert page["timeStamp"].endswith("Z")
    feature = page["features"][0]
    incident = world.records["alpha_verified_L4"]
    assert feature["id"] == incident.id
    assert feature["geometry"] == {"type": "Point", "coordinates": [*BANGUI_GENERALISED]}
    assert feature["properties"] == {
        "id": incident.id,
        "kind": "checkpoint_seizure",
        "occurred_at": "2025-03-14T09:30:00+00:00",
        "country": "CAF",
        "context": "armed_conflict",
        "mission": "MINUSCA",
        "contingent": "Alpha",
        "releasability": 4,
        "state": "verified",
        "location_is_exact": False,
        "location_precision": "exact",
        "updated_at": feature["properties"]["updated_at"],
    }
    links = {link["rel"]: link for link in page["links"]}
    assert links["self"]["href"] == f"http://testserver{ITEMS}?limit=1"
    assert links["self"]["type"] == "application/geo+json"
    assert links["next"]["href"] == f"http://testserver{ITEMS}?limit=1&cursor={incident.id}"
    assert links["collection"]["type"] == "application/json"


def test_a_withdrawn_record_is_left_out_and_its_feature_is_404(client, world):
    incident = world.records["alpha_verified_L5"]
    incident.withdrawn_at = timezone.now()
    incident.save()
    headers = key_header(world, "partner_agency")

    page = client.get(ITEMS, **headers).json()

    assert incident.id not in {feature["id"] for feature in page["features"]}
    assert page["numberMatched"] == 2
    assert client.get(f"{ITEMS}/{incident.id}", **headers).status_code == 404


def test_one_feature_is_shown_as_the_caller_may_see_it_or_is_404(client, world):
    headers = key_header(world, "partner_agency")
    visible = world.records["bravo_verified_L4"]

    response = client.get(f"{ITEMS}/{visible.id}", **headers)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    feature = response.json()
    assert feature["geometry"]["coordinates"] == [*BANGUI_GENERALISED]
    assert {link["rel"] for link in feature["links"]} == {"self", "collection"}
    for name in ("alpha_verified_L3", "alpha_draft_L1", "charlie_verified_L5"):
        hidden = world.records[name]
        response = client.get(f"{ITEMS}/{hidden.id}", **headers)
        assert response.status_code == 404, name
        assert response.json()["code"] == "not_found"
        assert str(hidden.location.x)[:6] not in response.content.decode()
    assert client.get(f"{ITEMS}/not-a-number", **headers).status_code == 404
    assert client.get("/ogc/collections/weapons/items", **headers).status_code == 404


# --- filters and paging ---------------------------------------------------------------------


def test_bbox_is_tested_on_the_shown_location_so_it_cannot_reveal_an_exact_point(client, world):
    # A box around the exact Bangui point that leaves out the cell point it is shown at.
    around_exact = "18.55,4.3,18.6,4.4"
    around_shown = "18.4,4.2,18.6,4.3"

    generalised = client.get(f"{ITEMS}?bbox={around_exact}", **key_header(world, "partner_agency"))
    shown = client.get(f"{ITEMS}?bbox={around_shown}", **key_header(world, "partner_agency"))
    client.force_login(world.users["admin"])
    exact = client.get(f"{ITEMS}?bbox={around_exact}")

    assert generalised.json()["numberMatched"] == 0
    assert shown.json()["numberMatched"] == 3
    bangui = {name for name in world.records if not name.startswith("charlie")}
    assert exact.json()["numberMatched"] == len(bangui)


def test_bbox_with_heights_is_read_as_a_2d_box(client, world):
    response = client.get(
        f"{ITEMS}?bbox=18.4,4.2,-10,18.6,4.3,10", **key_header(world, "partner_agency")
    )

    assert response.json()["numberMatched"] == 3


@pytest.mark.parametrize(
    ("value", "matched"),
    [
        ("2025-03-14T09:30:00Z", 3),
        ("2025-03-14T09:30:01Z", 0),
        ("2025-03-14", 3),
        ("2025-03-15", 0),
        ("2025-03-14T00:00:00Z/2025-03-14T23:59:59Z", 3),
        ("2025-03-14T09:30:00+00:00/2025-03-14T09:30:00Z", 3),
        ("../2025-03-13T23:59:59Z", 0),
        ("../2025-03-14", 3),
        ("2025-03-14T09:30:01Z/..", 0),
        ("2025-01-01/..", 3),
        ("/2025-03-14T09:30:00Z", 3),
        ("../..", 3),
    ],
)
def test_datetime_takes_instants_and_closed_and_open_intervals(client, world, value, matched):
    response = client.get(ITEMS, {"datetime": value}, **key_header(world, "partner_agency"))

    assert response.status_code == 200, response.content
    assert response.json()["numberMatched"] == matched


def test_paging_follows_ids_so_a_record_added_meanwhile_never_shifts_a_page(client, world):
    headers = key_header(world, "partner_agency")
    first = client.get(f"{ITEMS}?limit=2", **headers).json()
    # A record that sorts before the cursor, created between two page requests.
    earlier = world.records["alpha_verified_L1"]
    earlier.releasability = 5
    earlier.save()

    following = next(link for link in first["links"] if link["rel"] == "next")
    second = client.get(
        urlsplit(following["href"]).path + "?" + urlsplit(following["href"]).query, **headers
    ).json()

    seen = [feature["id"] for feature in first["features"] + second["features"]]
    assert len(seen) == len(set(seen)) == 3
    assert not [link for link in second["links"] if link["rel"] == "next"]


def test_a_limit_above_the_maximum_is_read_as_the_maximum(client, world):
    response = client.get(f"{ITEMS}?limit=50000", **key_header(world, "partner_agency"))

    assert response.status_code == 200
    assert response.json()["numberReturned"] == 3


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("bbox=18,4,19", "bbox"),
        ("bbox=a,b,c,d", "bbox"),
        ("bbox=19,4,18,5", "bbox"),
        ("bbox=18,5,19,4", "bbox"),
        ("bbox=18,4,19,nan", "bbox"),
        ("bbox=18,4,190,5", "bbox"),
        ("datetime=yesterday", "datetime"),
        ("datetime=2025-13-01", "datetime"),
        ("datetime=2025-03-15/2025-03-14", "datetime"),
        ("datetime=/", "datetime"),
        ("datetime=2025-03-14/2025-03-15/2025-03-16", "datetime"),
        ("limit=0", "limit"),
        ("limit=-5", "limit"),
        ("limit=ten", "limit"),
        ("limit=1.5", "limit"),
        ("cursor=abc", "cursor"),
        ("f=html", "f"),
        ("kind=cache_discovery", "kind"),
        ("limit=2&limit=3", "limit"),
    ],
)
def test_bad_or_unknown_parameters_get_400_naming_the_parameter(client, world, query, parameter):
    response = client.get(f"{ITEMS}?{query}", **key_header(world, "partner_agency"))

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == "InvalidParameterValue"
    assert parameter in body["description"]


def test_metadata_endpoints_refuse_unknown_parameters(client, world):
    response = client.get("/ogc/collections?bbox=1,2,3,4", **key_header(world, "partner_agency"))

    assert response.status_code == 400
    assert "bbox" in response.json()["description"]


# --- content negotiation --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "query", "content_type"),
    [
        ("application/geo+json, application/json", "", "application/geo+json"),
        ("application/json", "", "application/json"),
        ("text/html,application/xhtml+xml,*/*;q=0.8", "", "application/geo+json"),
        (None, "", "application/geo+json"),
        ("text/html", "?f=json", "application/geo+json"),
    ],
)
def test_features_answer_the_accept_header_and_f_json(client, world, accept, query, content_type):
    extra = {"HTTP_ACCEPT": accept} if accept else {}

    response = client.get(f"{ITEMS}{query}", **extra, **key_header(world, "partner_agency"))

    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert "Accept" in response["Vary"]


def test_a_media_type_that_cannot_be_produced_gets_406(client, world):
    response = client.get(ITEMS, HTTP_ACCEPT="text/html", **key_header(world, "partner_agency"))

    assert response.status_code == 406
    assert response.json()["code"] == "not_acceptable"


# --- who may read ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/ogc", "/ogc/collections", "/ogc/collections/incidents", ITEMS, f"{ITEMS}/1"]
)
def test_without_credentials_every_endpoint_answers_401_in_json(client, world, path):
    response = client.get(path)

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response["WWW-Authenticate"] == "Api-Key"
    assert response.json()["code"] == "not_authenticated"


def test_revoked_expired_and_unknown_keys_get_401(client, world):
    partner = world.agencies["partner_agency"]
    revoked_key, revoked = agency_api_key_create(agency=partner, name="revoked")
    revoked_key.revoked = True
    revoked_key.save()
    _expired_key, expired = agency_api_key_create(
        agency=partner, name="expired", expires_at=timezone.now() - timedelta(minutes=1)
    )

    for key in (revoked, expired, "abcdefgh.notarealkeyatallnotarealkeyatall"):
        response = client.get(ITEMS, HTTP_AUTHORIZATION=f"Api-Key {key}")
        assert response.status_code == 401, key
        assert response.json()["code"] == "authentication_failed"
        assert b"MINUSCA" not in response.content


def test_a_signed_in_user_without_a_role_may_not_read_the_collection(client, world):
    client.force_login(world.users["nobody"])

    assert client.get("/ogc").status_code == 200
    assert client.get(ITEMS).status_code == 403
    assert client.get("/ogc/collections/incidents").status_code == 403


def test_every_items_pull_is_logged_with_its_number_of_records(client, world):
    client.get(f"{ITEMS}?limit=2", **key_header(world, "partner_agency"))
    client.get(
        f"{ITEMS}/{world.records['bravo_verified_L4'].id}", **key_header(world, "partner_agency")
    )

    pulls = list(
        APIAccess.objects.order_by("id").values_list("agency__name", "path", "query", "records")
    )
    assert pulls == [
        ("partner_agency", ITEMS, "limit=2", 2),
        ("partner_agency", f"{ITEMS}/{world.records['bravo_verified_L4'].id}", "", 1),
    ]


# --- GDAL's OAPIF driver against a real server ----------------------------------------------


def ogr2ogr_to_geopackage(live_server, key: str, target, *open_options: str) -> None:
    """Read the incidents layer through the OAPIF driver into a GeoPackage; the key goes in
    a header (GDAL_HTTP_HEADERS), as an agency's script would send it."""
    command = [
        "ogr2ogr",
        "--config",
        "GDAL_HTTP_HEADERS",
        f"Authorization: Api-Key {key}",
        "-f",
        "GPKG",
        str(target),
        f"OAPIF:{live_server.url}/ogc",
        "incidents",
    ]
    for option in open_options:
        command += ["-oo", option]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr


def geopackage_points(path) -> dict[int, tuple[float, float]]:
    """id -> (x, y) of the GeoPackage's features, through GDAL (GeoPackage geometries are
    binary), after counting its rows with plain SQLite."""
    result = subprocess.run(
        ["ogr2ogr", "-f", "CSV", "/vsistdout/", str(path), "-lco", "GEOMETRY=AS_XY"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    return {int(row["id"]): (float(row["X"]), float(row["Y"])) for row in rows}


def geopackage_count(path) -> int:
    with sqlite3.connect(path) as database:
        return database.execute("SELECT count(*) FROM incidents").fetchone()[0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("page_size", [None, 2])
def test_ogr2ogr_reads_the_collection_into_a_geopackage_with_generalised_points(
    live_server, tmp_path, page_size
):
    world = build_world()
    target = tmp_path / "incidents.gpkg"
    options = [f"PAGE_SIZE={page_size}"] if page_size else []

    ogr2ogr_to_geopackage(live_server, world.api_keys["partner_agency"], target, *options)

    expected = expected_names(world, "partner_agency")
    assert geopackage_count(target) == len(expected)
    points = geopackage_points(target)
    ids = names_by_id(world)
    assert {ids[pk] for pk in points} == expected
    for x, y in points.values():
        assert (x, y) == BANGUI_GENERALISED
        assert (x / GENERALISED_CELL_DEGREES).is_integer()
        assert (y / GENERALISED_CELL_DEGREES).is_integer()
    pages = APIAccess.objects.filter(path="/ogc/collections/incidents/items")
    if page_size:
        assert any("cursor=" in pull.query for pull in pages), "the next link was followed"


@pytest.mark.django_db(transaction=True)
def test_ogr2ogr_gets_exact_points_where_the_agreement_grants_them(live_server, tmp_path):
    world = build_world()
    target = tmp_path / "incidents.gpkg"

    ogr2ogr_to_geopackage(live_server, world.api_keys["host_agency"], target, "PAGE_SIZE=1")

    goma = world.records["charlie_verified_L5"]
    assert geopackage_points(target) == {goma.id: (goma.location.x, goma.location.y)}


@pytest.mark.django_db(transaction=True)
def test_ogr2ogr_with_a_revoked_key_reads_nothing(live_server):
    world = build_world()
    api_key, raw = agency_api_key_create(agency=world.agencies["partner_agency"], name="old")
    api_key.revoked = True
    api_key.save()

    result = subprocess.run(
        [
            "ogrinfo",
            "--config",
            "GDAL_HTTP_HEADERS",
            f"Authorization: Api-Key {raw}",
            "-so",
            f"OAPIF:{live_server.url}/ogc",
            "incidents",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert "HTTP error code : 401" in result.stderr
