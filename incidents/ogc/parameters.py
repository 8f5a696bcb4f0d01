"""The query parameters of OGC API – Features, parsed and checked.

Bad values are refused with 400 and a message that names the parameter. So are parameters
the API does not define: the standard recommends it (/rec/core/query-param-unknown), and a
client that sends, say, `kind=cache_discovery` expecting a filter must not silently get
every incident instead.
"""

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import APIException

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
ITEMS_PARAMETERS = frozenset({"f", "bbox", "datetime", "limit", "cursor"})
METADATA_PARAMETERS = frozenset({"f"})
OPEN_END = ("", "..")
DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class InvalidParameter(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "InvalidParameterValue"


@dataclass(frozen=True)
class Interval:
    """A closed time interval; None on a side means open."""

    start: datetime | None
    end: datetime | None


@dataclass(frozen=True)
class ItemsQuery:
    bbox: tuple[float, float, float, float] | None
    interval: Interval | None
    limit: int
    cursor: int | None


def check_known(query_params, allowed: frozenset[str]) -> None:
    unknown = sorted(set(query_params) - allowed)
    if unknown:
        raise InvalidParameter(
            _("Unknown query parameter(s): %(unknown)s. This endpoint takes: %(allowed)s.")
            % {"unknown": ", ".join(unknown), "allowed": ", ".join(sorted(allowed))}
        )
    for name in query_params:
        if len(query_params.getlist(name)) > 1:
            raise InvalidParameter(_("%(name)s: give it once.") % {"name": name})


def items_query(query_params) -> ItemsQuery:
    check_known(query_params, ITEMS_PARAMETERS)
    return ItemsQuery(
        bbox=parse_bbox(query_params.get("bbox")),
        interval=parse_datetime_parameter(query_params.get("datetime")),
        limit=parse_limit(query_params.get("limit")),
        cursor=parse_cursor(query_params.get("cursor")),
    )


def parse_bbox(raw: str | None) -> tuple[float, float, float, float] | None:
    """minx,miny,maxx,maxy in CRS84 (longitude first); a 3D box's heights are ignored,
    as incidents are points on the ground."""
    if raw is None:
        return None
    message = _(
        "bbox: give 4 numbers, minx,miny,maxx,maxy in longitude/latitude (WGS 84), with "
        "minx <= maxx and miny <= maxy; got “%(raw)s”."
    ) % {"raw": raw[:100]}
    try:
        numbers = [float(part) for part in raw.split(",")]
    except ValueError:
        raise InvalidParameter(message) from None
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(math.isfinite(number) for number in numbers):
        raise InvalidParameter(message)
    minx, miny, maxx, maxy = numbers
    # A box across the antimeridian (minx > maxx) is allowed by the standard; no mission
    # area crosses it, so it is refused rather than half-supported.
    if minx > maxx or miny > maxy:
        raise InvalidParameter(message)
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise InvalidParameter(message)
    return minx, miny, maxx, maxy


def parse_datetime_parameter(raw: str | None) -> Interval | None:
    """An instant (`2025-03-14T09:30:00Z`, or a whole day `2025-03-14`) or an interval,
    closed (`start/end`) or open at one end (`../end`, `start/..`; an empty side too)."""
    if raw is None:
        return None
    message = _(
        "datetime: give an RFC 3339 instant (2025-03-14T09:30:00Z or 2025-03-14), or an "
        "interval start/end where either side may be “..” for open; got “%(raw)s”."
    ) % {"raw": raw[:100]}
    try:
        if "/" not in raw:
            first, last = _instant(raw, end=False), _instant(raw, end=True)
            return Interval(first, last)
        start_raw, _slash, end_raw = raw.partition("/")
        if "/" in end_raw or (start_raw in OPEN_END and end_raw in OPEN_END and raw != "../.."):
            raise ValueError(raw)
        start = None if start_raw in OPEN_END else _instant(start_raw, end=False)
        end = None if end_raw in OPEN_END else _instant(end_raw, end=True)
    except ValueError:
        raise InvalidParameter(message) from None
    if start and end and start > end:
        raise InvalidParameter(
            _("datetime: the interval starts after it ends (“%(raw)s”).") % {"raw": raw[:100]}
        )
    return Interval(start, end)


def _instant(raw: str, *, end: bool) -> datetime:
    """A timezone-aware datetime. A bare date stands for its whole day (UTC): its first
    instant as a start, its last as an end. A time without an offset is read as UTC."""
    if DATE_ONLY.match(raw):
        day = datetime.combine(date.fromisoformat(raw), time.min, tzinfo=UTC)
        return day + timedelta(days=1, microseconds=-1) if end else day
    if "T" not in raw.upper():
        raise ValueError(raw)
    value = datetime.fromisoformat(raw)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise InvalidParameter(
            _("limit: give a whole number from 1 to %(max)d; got “%(raw)s”.")
            % {"max": MAX_LIMIT, "raw": raw[:100]}
        )
    # The standard: a limit above the maximum is not an error; the maximum applies.
    return min(int(raw), MAX_LIMIT)


def parse_cursor(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise InvalidParameter(
            _("cursor: give the value from a “next” link; got “%(raw)s”.") % {"raw": raw[:100]}
        )
    return int(raw)
