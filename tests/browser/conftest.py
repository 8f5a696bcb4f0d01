import os

# Playwright's sync API runs an event loop in the test thread; the tests' own database
# calls are still synchronous and safe. (tests/test_settings.py keeps this variable out of
# the deployment check it runs.)
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
