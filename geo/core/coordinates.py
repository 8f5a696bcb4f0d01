"""Coordinates as people type them, turned into a WGS 84 point.

Shared by the entry forms, the bulk import and the API. Three notations are accepted:

- decimal degrees, latitude first: ``4.3671, 18.5837`` or ``4.3671 18.5837``, or with
  hemisphere letters in either order: ``18.5837E 4.3671N``
- degrees, minutes (and seconds): ``4°22'01.6"N 18°35'01.3"E``, ``N4 22.03 E18 35.02``,
  ``4 22 1.6 N, 18 35 1.3 E``
- MGRS, the grid reference military contingents use: ``34NBK3182283135`` (spaces allowed)

Every error is a ValidationError whose message says what is wrong and how to write it.
"""

import re
from dataclasses import dataclass

import mgrs
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MGRS_PATTERN = re.compile(r"^(\d{1,2})([C-HJ-NP-X])([A-HJ-NP-Z]{2})(\d*)$")
NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")
HEMISPHERES = "NSEW"
# Degree, minute and second marks as people and GPS units write them: degree and ordinal
# signs, straight and curly quotes, primes, and colons. All are read as spaces.
DMS_SYMBOLS = re.compile("[\u00b0\u00ba\u02da'\u2032\u2019\u2018\"\u2033\u201d\u201c:]")


@dataclass(frozen=True)
class Coordinates:
    latitude: float
    longitude: float
    notation: str  # "decimal", "dms" or "mgrs"
    # How far the true point may be from this one, judged from how it was written: an MGRS
    # reference of 4 digits is a 1 km square; 4.4, 18.6 is good to about 11 km.
    uncertainty_m: float = 1.0


METRES_PER_DEGREE = 111_320


def _decimals(number: str) -> int:
    return len(number.split(".")[1]) if "." in number else 0


def _uncertainty(numbers: list[str]) -> float:
    """For one coordinate written as [deg] or [deg, min] or [deg, min, sec]."""
    unit = METRES_PER_DEGREE / 60 ** (len(numbers) - 1)
    return unit / 10 ** _decimals(numbers[-1])


def parse_coordinates(text: str) -> Coordinates:
    """Read `text` in any accepted notation; raise ValidationError if it cannot be read or
    lies outside the Earth's range."""
    cleaned = " ".join(str(text).strip().upper().split())
    if not cleaned:
        raise ValidationError(_("Enter coordinates."), code="required")
    compact = cleaned.replace(" ", "")
    if MGRS_PATTERN.match(compact):
        return _parse_mgrs(compact)
    if any(letter in cleaned for letter in HEMISPHERES):
        latitude, longitude, uncertainty = _parse_with_hemispheres(cleaned)
    else:
        latitude, longitude, uncertainty = _parse_signed(cleaned)
    _check_range(latitude, longitude)
    decimal_only = len(NUMBER.findall(cleaned)) == 2 and not DMS_SYMBOLS.search(cleaned)
    return Coordinates(
        round(latitude, 7),
        round(longitude, 7),
        "decimal" if decimal_only else "dms",
        uncertainty_m=uncertainty,
    )


def _parse_mgrs(reference: str) -> Coordinates:
    digits = MGRS_PATTERN.match(reference).group(4)
    if len(digits) % 2 or len(digits) > 10:
        raise ValidationError(
            _(
                "The MGRS reference %(ref)s has %(n)d digits after the square letters; it needs "
                "an even number, up to 10 (easting then northing)."
            ),
            code="invalid_mgrs",
            params={"ref": reference, "n": len(digits)},
        )
    try:
        latitude, longitude = mgrs.MGRS().toLatLon(reference)
    except Exception as error:  # the C library raises a bare MGRSError
        raise ValidationError(
            _("%(ref)s is not a valid MGRS reference (zone, band, 100 km square, digits)."),
            code="invalid_mgrs",
            params={"ref": reference},
        ) from error
    return Coordinates(
        round(latitude, 7), round(longitude, 7), "mgrs", uncertainty_m=10 ** (5 - len(digits) // 2)
    )


def _degrees(numbers: list[str], original: str) -> float:
    """Degrees from [deg], [deg, min] or [deg, min, sec]."""
    if not 1 <= len(numbers) <= 3:
        raise ValidationError(
            _("Cannot read %(part)s: write degrees, then minutes and seconds if any."),
            code="invalid",
            params={"part": original.strip()},
        )
    values = [float(number) for number in numbers]
    for value, unit in zip(values[1:], (_("minutes"), _("seconds")), strict=False):
        if not 0 <= value < 60:
            raise ValidationError(
                _("%(value)s %(unit)s is out of range: %(unit)s go from 0 to 59."),
                code="out_of_range",
                params={"value": value, "unit": unit},
            )
    degrees = abs(values[0]) + sum(v / 60**i for i, v in enumerate(values[1:], start=1))
    return -degrees if values[0] < 0 else degrees


def _parse_with_hemispheres(text: str) -> tuple[float, float, float]:
    spaced = DMS_SYMBOLS.sub(" ", text).replace(",", " ")
    # Letters either lead (N4 22 E18 35) or trail (4 22 N 18 35 E) each coordinate.
    starts_with_letter = spaced.lstrip()[0] in HEMISPHERES
    split_at = r"(?=[NSEW])" if starts_with_letter else r"(?<=[NSEW])"
    parts = [part for part in re.split(split_at, spaced) if part.strip()]
    if len(parts) != 2 or not all(any(h in part for h in HEMISPHERES) for part in parts):
        raise ValidationError(
            _(
                "Cannot read %(text)s: give latitude and longitude, each with one hemisphere "
                "letter, e.g. 4°22'N 18°35'E."
            ),
            code="invalid",
            params={"text": text},
        )
    values, uncertainty = {}, 0.0
    for part in parts:
        letter = next(h for h in HEMISPHERES if h in part)
        numbers = NUMBER.findall(part)
        if any(number.startswith(("-", "+")) for number in numbers):
            raise ValidationError(
                _("Use either a sign or a hemisphere letter, not both: %(part)s."),
                code="invalid",
                params={"part": part.strip()},
            )
        axis = "latitude" if letter in "NS" else "longitude"
        if axis in values:
            raise ValidationError(
                _(
                    "Both coordinates are %(axis)s; give one latitude (N/S) and one longitude "
                    "(E/W)."
                ),
                code="invalid",
                params={"axis": _(axis)},
            )
        value = _degrees(numbers, part)
        values[axis] = -value if letter in "SW" else value
        uncertainty = max(uncertainty, _uncertainty(numbers))
    return values["latitude"], values["longitude"], uncertainty


def _parse_signed(text: str) -> tuple[float, float, float]:
    numbers = NUMBER.findall(DMS_SYMBOLS.sub(" ", text))
    leftovers = NUMBER.sub("", DMS_SYMBOLS.sub(" ", text)).replace(",", "").replace(";", "")
    if leftovers.strip() or len(numbers) not in (2, 4, 6):
        raise ValidationError(
            _(
                "Cannot read %(text)s: write latitude then longitude in decimal degrees "
                "(4.3671, 18.5837), in degrees and minutes with N/S/E/W, or as an MGRS "
                "reference."
            ),
            code="invalid",
            params={"text": text},
        )
    half = len(numbers) // 2
    uncertainty = max(_uncertainty(numbers[:half]), _uncertainty(numbers[half:]))
    return _degrees(numbers[:half], text), _degrees(numbers[half:], text), uncertainty


def _check_range(latitude: float, longitude: float) -> None:
    if not -90 <= latitude <= 90:
        swapped = -90 <= longitude <= 90 and -180 <= latitude <= 180
        raise ValidationError(
            _("Latitude %(lat)s is out of range (-90 to 90).%(hint)s"),
            code="out_of_range",
            params={
                "lat": latitude,
                "hint": _(" Are latitude and longitude swapped? Latitude comes first.")
                if swapped
                else "",
            },
        )
    if not -180 <= longitude <= 180:
        raise ValidationError(
            _("Longitude %(lon)s is out of range (-180 to 180)."),
            code="out_of_range",
            params={"lon": longitude},
        )
