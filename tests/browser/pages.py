"""Steps the browser tests share."""

from playwright.sync_api import Page, expect

from tests.personas import PASSWORD


def sign_in(page: Page, live_server, username: str) -> None:
    """Sign in through the login page as a persona of tests/personas.py, and wait for the
    home page."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{live_server.url}/")
