"""Waiting on what a test waits for (a worker's answer, a job's state, a lock), never on the
clock: the suite runs in parallel on machines that are busy with other work, so every wait
ends on its event and only a long safety timeout turns a hang into a failure."""

import time

import pytest

# Long: a loaded machine is slow, never wrong. Only a test that hangs waits this long.
SAFETY_SECONDS = 600
SAFETY_MS = SAFETY_SECONDS * 1000


def wait_for(condition, *, what: str, seconds: float = SAFETY_SECONDS, interval: float = 0.1):
    """The first true value of `condition()`, asked every `interval` seconds."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"Timed out waiting for {what}.")
