"""Headers that keep records out of caches."""

import re

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


# --- secure headers on every response --------------------------------------------------

CSP_ON_EVERY_PAGE = (
    "default-src 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
)


def _directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in policy.split(";") if part.strip())
    }


def assert_secure_headers(response) -> None:
    where = response.request["PATH_INFO"]
    policy = response.get("Content-Security-Policy", "")
    for directive in CSP_ON_EVERY_PAGE:
        assert directive in policy, (where, policy)
    scripts = _directives(response)["script-src"]
    # Only the site's own files, or an inline block carrying this response's nonce.
    assert scripts[0] == "'self'" and all(
        value == "'self'" or value.startswith("'nonce-") for value in scripts
    ), (where, scripts)
    assert response["X-Content-Type-Options"] == "nosniff", where
    assert response["Referrer-Policy"] == "same-origin", where
    assert response["X-Frame-Options"] == "DENY", where


def test_pages_and_api_answers_carry_csp_nosniff_and_referrer_policy(client, world):
    key = {"HTTP_AUTHORIZATION": f"Api-Key {world.api_keys['partner_agency']}"}
    incident = world.records["alpha_draft_L1"]
    answers = [
        client.get("/"),
        client.get("/accounts/login/"),
        client.get("/api/v1/incidents", **key),
        client.get("/api/v1/incidents"),  # refused: 401/403 carries them too
        client.get("/ogc/collections/incidents/items", **key),
        client.get("/api/v1/schema"),
        client.get("/api/v1/docs"),
        client.get("/api/v1/redoc"),
    ]
    client.force_login(world.users["reporter_alpha"])
    answers += [
        client.get("/incidents/"),
        client.get("/incidents/new"),
        client.get(f"/incidents/{incident.pk}/"),
        client.get("/incidents/import/"),
        client.get("/api/v1/incidents/export.csv"),
    ]
    client.force_login(world.users["admin"])
    answers += [client.get("/admin/"), client.get("/analyses/")]

    for response in answers:
        assert response.status_code < 500, response.request["PATH_INFO"]
        assert_secure_headers(response)


def test_the_map_tile_server_and_inline_images_are_allowed_and_nothing_else(client, world):
    from django.conf import settings

    images = _directives(client.get("/accounts/login/"))["img-src"]
    assert images[:3] == ["'self'", "data:", "blob:"]
    tile_url = str(getattr(settings, "MAP_TILE_URL", "") or settings.LEAFLET_CONFIG["TILES"])
    tile_host = tile_url.split("/")[2].replace("{s}", "*")
    assert any(tile_host in value for value in images[3:]), (tile_url, images)
    assert all(value.startswith(("https://", "http://")) for value in images[3:])


def test_the_tile_origin_is_read_from_the_template_url():
    from armsmonitor.settings import _csp_directives, _tile_origin

    assert _tile_origin("https://{s}.tile.example.org/{z}/{x}/{y}.png") == (
        "https://*.tile.example.org"
    )
    assert _tile_origin("http://127.0.0.1:8080/tiles/{z}/{x}/{y}.png") == "http://127.0.0.1:8080"
    assert _tile_origin("/static/tiles/{z}/{x}/{y}.png") == ""
    assert (
        "https://*.tile.example.org"
        in _csp_directives(["https://{s}.tile.example.org/{z}/{x}/{y}.png"])["img-src"]
    )


def test_no_template_holds_an_inline_script_or_event_handler():
    import re
    from pathlib import Path

    templates = Path(__file__).resolve().parent.parent / "templates"
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/(?:ld\+)?json)[^>]*>")
    handler = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
    offenders = [
        f"{path.relative_to(templates)}:{number}"
        for path in sorted(templates.rglob("*.html"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if inline_script.search(line) or handler.search(line)
    ]
    assert offenders == []


def test_swagger_ui_and_redoc_pages_load_their_scripts_from_files(client, world):
    docs = client.get("/api/v1/docs")
    redoc = client.get("/api/v1/redoc")
    assert docs.status_code == redoc.status_code == 200
    for page in (docs, redoc):
        html = page.content.decode()
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == [], html
    script_url = re.search(r'<script src="([^"]*\?script=[^"]*)"', docs.content.decode())
    assert script_url, docs.content.decode()
    script = client.get(script_url.group(1).replace("&amp;", "&"))
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in script.content
