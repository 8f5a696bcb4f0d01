"""Failed sign-ins (django-axes): two lockouts, each with its own limit.

- A user name from one address: AXES_FAILURE_LIMIT failures (5) — someone guessing one
  account's password.
- An address, whatever the user names: AXES_ADDRESS_FAILURE_LIMIT failures (20) — password
  spraying, one password tried against many names, each name staying under its own limit.

axes can key a lockout on the address alone (AXES_LOCKOUT_PARAMETERS), but compares every
key with one AXES_FAILURE_LIMIT: five failures from an office behind one NAT address would
lock all its staff out. So the address count is kept here, beside axes' own per-name count,
with the higher limit; both read the same failure records (AccessAttempt, one per name,
address and browser) over the same cool-off (AXES_COOLOFF_TIME), and a success clears only
that name's failures from that address (AXES_RESET_ON_SUCCESS): the spraying count stays.
"""

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest


def address_failures(request: HttpRequest) -> int:
    """Failed sign-ins from the request's address within the cool-off, whatever the names."""
    attempts = AccessAttempt.objects.filter(ip_address=request.axes_ip_address)
    if settings.AXES_COOLOFF_TIME is not None:
        attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
    return attempts.aggregate(failures=Sum("failures_since_start"))["failures"] or 0


class NameAndAddressLockoutHandler(AxesDatabaseHandler):
    """axes' database handler, with the address lockout added to its per-name one."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        # axes locks (and answers 429) when this reaches AXES_FAILURE_LIMIT; an address over
        # its own limit is reported as at least that many, whichever name it tries next.
        failures = super().get_failures(request, credentials)
        if address_failures(request) >= settings.AXES_ADDRESS_FAILURE_LIMIT:
            return max(failures, get_failure_limit(request, credentials))
        return failures
