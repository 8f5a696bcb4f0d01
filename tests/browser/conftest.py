import pytest


@pytest.fixture(autouse=True)
def _allow_database_calls_beside_playwright(monkeypatch):
    # Playwright's sync API runs an event loop in the test thread; the test's own database
    # calls are still synchronous and safe. Only browser tests need this.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
