"""What the API's OpenAPI schema cannot state, told to Schemathesis: rules between two
values of one request, and a polygon's validity. Everything else a request may hold, the
schema states (patterns, ranges, enums); the server refuses what it does not.

The in-suite tests load this module (tests/schema_driven.py); a run from outside loads it
through tests/schemathesis-cli.toml.

Only cases that are meant to be valid are changed, and only so far as to obey these rules:
a case meant to be invalid keeps what makes it so."""

import hashlib
import re

import schemathesis
from schemathesis.core.parameters import ParameterLocation

_QUERY = ParameterLocation.QUERY

# The pairs of bounds the server refuses reversed (a period that ends before it starts).
# OpenAPI relates no two parameters.
ORDERED_BOUNDS = [("occurred_after", "occurred_before")]
NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


def _in_order(values: dict) -> None:
    for low, high in ORDERED_BOUNDS:
        first, last = values.get(low), values.get(high)
        # ISO 8601 date-times compare as text only within one offset: compare them parsed.
        if isinstance(first, str) and isinstance(last, str) and _moment(first) > _moment(last):
            values[low], values[high] = last, first


def _moment(text: str):
    from datetime import UTC, datetime

    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC)


def _bbox_in_order(values: dict) -> None:
    """minx <= maxx and miny <= maxy: the schema's pattern gives four numbers in range, and
    cannot compare them."""
    box = values.get("bbox")
    if not isinstance(box, str):
        return
    parts = box.split(",")
    if len(parts) != 4 or not all(NUMBER.match(part) for part in parts):
        return
    xs = sorted(parts[0::2], key=float)
    ys = sorted(parts[1::2], key=float)
    values["bbox"] = ",".join([xs[0], ys[0], xs[1], ys[1]])


def _valid_polygon(values: dict) -> None:
    """Whether a polygon is valid (closed rings that do not cross themselves) no schema can
    say: a drawn polygon becomes a valid one, a square placed by what was drawn."""
    drawn = values.get("polygon")
    if not isinstance(drawn, str):
        return
    digest = hashlib.sha256(drawn.encode("utf-8", "surrogatepass")).digest()
    x, y, size = digest[0] % 340 - 170, digest[1] % 160 - 80, 1 + digest[2] % 9
    corners = [(x, y), (x + size, y), (x + size, y + size), (x, y + size), (x, y)]
    values["polygon"] = "POLYGON((" + ", ".join(f"{a} {b}" for a, b in corners) + "))"


def _obey(values: dict) -> None:
    _in_order(values)
    _bbox_in_order(values)
    _valid_polygon(values)


@schemathesis.hook
def map_case(ctx, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return case
    if isinstance(case.query, dict):
        _obey(case.query)
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("filter"), dict):
        _obey(body["filter"])
    return case


def _unsendable(value) -> bool:
    """An object, or a list holding one: a query string cannot carry it, so it is not sent."""
    if isinstance(value, dict):
        return True
    return isinstance(value, list) and any(isinstance(item, dict | list) for item in value)


@schemathesis.hook
def filter_case(ctx, case):
    """Leave out a case meant to be invalid only by a query value the query string cannot
    carry (Schemathesis 4.32 draws `?context=` as a list of objects, sends nothing for it,
    and expects a 400)."""
    meta = case.meta
    if meta is None or not meta.is_negative_at(_QUERY):
        return True
    return not any(_unsendable(value) for value in (case.query or {}).values())
