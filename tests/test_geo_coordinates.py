"""Coordinates typed in decimal degrees, degrees-minutes-seconds or MGRS."""

import mgrs
import pytest
from django.core.exceptions import ValidationError

from geo.core.coordinates import parse_coordinates

BANGUI = (4.3671111, 18.5836944)  # 4°22'01.6"N 18°35'01.3"E


@pytest.mark.parametrize(
    ("text", "latitude", "longitude", "notation"),
    [
        ("4.3671111, 18.5836944", *BANGUI, "decimal"),
        ("4.3671111 18.5836944", *BANGUI, "decimal"),
        ("4.3671111;18.5836944", *BANGUI, "decimal"),
        ("18.5836944E 4.3671111N", *BANGUI, "decimal"),
        ("4°22'01.6\"N 18°35'01.3\"E", *BANGUI, "dms"),
        ("4°22\u203201.6\u2033N 18°35\u203201.3\u2033E", *BANGUI, "dms"),
        ("N 4 22 1.6, E 18 35 1.3", *BANGUI, "dms"),
        ("4:22:01.6N 18:35:01.3E", *BANGUI, "dms"),
        ("1°40'S 29°13'E", -1.6666667, 29.2166667, "dms"),
        ("-1.68, 29.22", -1.68, 29.22, "decimal"),
        ("1 40 S 29 13 W", -1.6666667, -29.2166667, "dms"),
    ],
)
def test_accepted_notations(text, latitude, longitude, notation):
    parsed = parse_coordinates(text)
    assert parsed.latitude == pytest.approx(latitude, abs=1e-6)
    assert parsed.longitude == pytest.approx(longitude, abs=1e-6)
    assert parsed.notation == notation


@pytest.mark.parametrize("spacing", ["34NBK3182283135", "34N BK 31822 83135", "34nbk 3182283135"])
def test_mgrs_reference_of_bangui(spacing):
    parsed = parse_coordinates(spacing)
    assert parsed.notation == "mgrs"
    # A 1 m MGRS square: the parsed point lies within about a metre of Bangui's point.
    assert parsed.latitude == pytest.approx(4.3671, abs=2e-5)
    assert parsed.longitude == pytest.approx(18.5837, abs=2e-5)
    assert mgrs.MGRS().toMGRS(parsed.latitude, parsed.longitude) == "34NBK3182283135"


@pytest.mark.parametrize(
    ("text", "code", "says"),
    [
        ("", "required", "Enter coordinates"),
        ("118.5, 18.58", "out_of_range", "swapped"),
        ("4.36, 218.58", "out_of_range", "Longitude 218.58"),
        ("-95, 18", "out_of_range", "Latitude -95"),
        ("4 61 N 18 3 E", "out_of_range", "61.0 minutes"),
        ("4 22 75 N 18 3 E", "out_of_range", "75.0 seconds"),
        ("34NBK318", "invalid_mgrs", "even number"),
        ("34NBI3182283135", "invalid", "Cannot read"),
        ("Bangui", "invalid", "Cannot read"),
        ("N4 N18", "invalid", "Both coordinates are latitude"),
        ("-4 22 S 18 E", "invalid", "either a sign or a hemisphere"),
        ("4.3 18.5 12", "invalid", "Cannot read"),
        ("4,3671 18,5837", "out_of_range", "3671.0 minutes"),
    ],
)
def test_bad_coordinates_get_a_message_that_says_what_is_wrong(text, code, says):
    with pytest.raises(ValidationError) as raised:
        parse_coordinates(text)
    assert raised.value.code == code
    assert says in raised.value.messages[0]


@pytest.mark.parametrize(
    ("text", "metres"),
    [
        ("4.3671, 18.5837", 11.1),
        ("4.4, 18.6", 11_132),
        ("34NBK3182283135", 1),
        ("34NBK3183", 1_000),
        ("4 22 N 18 35 E", 1_855),
        ("4N 18E", 111_320),
    ],
)
def test_the_uncertainty_follows_how_the_point_was_written(text, metres):
    assert parse_coordinates(text).uncertainty_m == pytest.approx(metres, rel=0.01)
