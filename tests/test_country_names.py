"""Country names are the UN's (M49, UNTERM) in the active language, from the file that
hdx-python-country ships, read once and without the network (issue 20)."""

import csv
import importlib
import re
import socket
import subprocess
from importlib.resources import files

import pycountry
import pytest
from django import forms
from django.utils import translation
from hdx.location.country import Country

from geo import countries
from geo.countries import COUNTRY_CHOICES, country_name, sort_key
from reports.models import Report
from reports.services import report_generate, report_request
from tests.report_fixtures import MARCH_2025, build_report_world

TAXONOMY_FILE = "Countries & Territories Taxonomy MVP - C&T Taxonomy.csv"


def package_rows() -> dict[str, dict[str, str]]:
    """The taxonomy as the package holds it, read here without geo.countries."""
    with files("hdx.location").joinpath(TAXONOMY_FILE).open(encoding="utf-8") as text:
        return {row["ISO 3166-1 Alpha 3-Codes"]: row for row in csv.DictReader(text)}


def forget_loaded_names(monkeypatch) -> None:
    """Make the next lookup read the package's file again, as a fresh process would."""
    countries.taxonomy.cache_clear()
    countries._names.cache_clear()
    monkeypatch.setattr(Country, "_countriesdata", None)


@pytest.fixture
def no_network(monkeypatch):
    """Every connection attempt and name resolution raises, and is recorded."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("The network is off in this test.")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    yield attempts
    # Whatever the test loaded, later tests read the file again with the network back.
    countries.taxonomy.cache_clear()
    countries._names.cache_clear()


EXPECTED = {
    # code: (English, French), as M49 has them
    "COD": ("Democratic Republic of the Congo", "République démocratique du Congo"),
    "CAF": ("Central African Republic", "République centrafricaine"),
    "CIV": ("Côte d’Ivoire", "Côte d’Ivoire"),
    "TZA": ("United Republic of Tanzania", "République-Unie de Tanzanie"),
    "GBR": (
        "United Kingdom of Great Britain and Northern Ireland",
        "Royaume-Uni de Grande-Bretagne et d’Irlande du Nord",
    ),
}


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_english_and_french_names_are_the_m49_names_the_package_holds(code):
    row = package_rows()[code]
    english, french = EXPECTED[code]
    assert (row["M49 English"], row["M49 French"]) == (english, french)
    assert country_name(code, "en") == english
    assert country_name(code, "fr") == french


def test_pycountrys_iso_names_are_no_longer_printed():
    assert country_name("COD", "en") != pycountry.countries.get(alpha_3="COD").name
    assert country_name("TZA", "en") != pycountry.countries.get(alpha_3="TZA").name


def test_the_active_language_chooses_the_name():
    with translation.override("fr"):
        assert country_name("COD") == "République démocratique du Congo"
    with translation.override("fr-ca"):
        assert country_name("CAF") == "République centrafricaine"
    with translation.override("en"):
        assert country_name("COD") == "Democratic Republic of the Congo"
    # A language the taxonomy has no names in gets the English ones.
    with translation.override("de"):
        assert country_name("TZA") == "United Republic of Tanzania"
    assert country_name("caf", "fr") == "République centrafricaine"


def test_a_code_without_an_m49_name_falls_back():
    rows = package_rows()
    assert rows["TWN"]["M49 English"] == rows["TWN"]["M49 French"] == ""
    # English: OCHA's preferred term.
    assert country_name("TWN", "en") == rows["TWN"]["Preferred Term"]
    assert country_name("TWN", "en") == "Taiwan (Province of China)"
    # French: the ISO 3166 name as pycountry's iso-codes catalogue translates it.
    assert country_name("TWN", "fr") == "Taïwan, province de Chine"
    # Kosovo's user-assigned code is in the taxonomy (outside ISO 3166) with an English
    # name only: French pages print that one.
    assert country_name("XKX", "en") == country_name("XKX", "fr") == "Kosovo"
    # A territory M49 names though UNTERM does not.
    assert country_name("ALA", "fr") == "Îles d’Åland"
    # Not a country: the code itself, which callers take for "unknown".
    assert country_name("ZZZ", "en") == "ZZZ"
    assert country_name("", "fr") == ""


def test_every_iso_country_has_a_name_in_english_and_french():
    for country in pycountry.countries:
        for language in ("en", "fr"):
            name = country_name(country.alpha_3, language)
            assert name and name != country.alpha_3, (country.alpha_3, language)


def test_choices_follow_the_language_of_the_page_not_of_the_import():
    choices = COUNTRY_CHOICES  # built once, at import, in whatever language was active
    with translation.override("fr"):
        french = list(choices)
    with translation.override("en"):
        english = list(choices)
    assert dict(french)["COD"] == "République démocratique du Congo"
    assert dict(english)["COD"] == "Democratic Republic of the Congo"
    assert len(english) == len(french) == len(pycountry.countries)
    # Sorted by the name in that language, accents and case aside.
    for listed in (english, french):
        assert [name for _, name in listed] == sorted((name for _, name in listed), key=sort_key)
    codes_fr = [code for code, _ in french]
    # "Afrique du Sud" before "Albanie"; "Égypte" among the E, before "Érythrée".
    assert codes_fr.index("ZAF") < codes_fr.index("ALB")
    assert codes_fr.index("EGY") < codes_fr.index("ERI") < codes_fr.index("ESP")
    assert [code for code, _ in english][:2] == ["AFG", "ALA"]  # Afghanistan, Åland Islands


def test_a_form_renders_the_names_in_the_active_language():
    class CountryForm(forms.Form):
        country = forms.ChoiceField(choices=COUNTRY_CHOICES)

    form = CountryForm()
    with translation.override("fr"):
        french = str(form["country"])
    with translation.override("en"):
        english = str(form["country"])
    assert '<option value="COD">République démocratique du Congo</option>' in french
    assert '<option value="COD">Democratic Republic of the Congo</option>' in english


def test_the_network_guard_refuses_connections(no_network):
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", 6379), timeout=1)
    with socket.socket() as plain, pytest.raises(OSError):
        plain.connect(("127.0.0.1", 6379))
    assert len(no_network) == 2


def test_names_are_read_from_the_package_file_without_the_network(no_network, monkeypatch):
    forget_loaded_names(monkeypatch)
    assert country_name("COD", "fr") == "République démocratique du Congo"
    assert country_name("CIV", "en") == "Côte d’Ivoire"
    with translation.override("fr"):
        assert dict(COUNTRY_CHOICES)["TZA"] == "République-Unie de Tanzanie"
    assert no_network == []


def test_the_table_is_loaded_once(monkeypatch):
    forget_loaded_names(monkeypatch)
    loads = []
    read = Country.countriesdata.__func__

    def counted(cls, *args, **kwargs):
        loads.append(kwargs)
        return read(cls, *args, **kwargs)

    monkeypatch.setattr(Country, "countriesdata", classmethod(counted))
    for language in ("en", "fr", "en", "fr"):
        for code in ("COD", "CAF", "GBR", "TWN"):
            country_name(code, language)
    with translation.override("fr"):
        list(COUNTRY_CHOICES)
    assert len(loads) == 1
    # ... and never live: the package's feed would be a download.
    assert loads[0]["use_live"] is False
    countries.taxonomy.cache_clear()
    countries._names.cache_clear()


# --- in a report -------------------------------------------------------------------------


def pdf_text(report: Report) -> str:
    pdf = report.files.get(file_format="pdf")
    text = subprocess.run(
        ["pdftotext", pdf.file.path, "-"], capture_output=True, text=True, check=True
    ).stdout
    return re.sub(r"\s+", " ", text)


def sdg_report(user, language: str, scope_kind="region", scope="test-cod") -> Report:
    report = report_request(
        requester=user,
        template="sdg_16_4_2",
        scope_kind=scope_kind,
        scope=scope,
        period_start=MARCH_2025[0],
        period_end=MARCH_2025[1],
        language=language,
    )
    report_generate(report_id=report.pk, worker="test")
    report.refresh_from_db()
    assert report.state == Report.State.DONE, report.error
    return report


@pytest.mark.django_db
def test_a_report_prints_the_un_name_in_its_language(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    admin = build_report_world().users["admin"]

    english = pdf_text(sdg_report(admin, "en"))
    assert "Democratic Republic of the Congo" in english
    assert "Congo, The Democratic Republic of the" not in english

    french = pdf_text(sdg_report(admin, "fr"))
    assert "République démocratique du Congo" in french
    assert "Democratic Republic of the Congo" not in french

    # A country's report, asked for from an English page, titled in the report's language.
    with translation.override("en"):
        report = sdg_report(admin, "fr", scope_kind="country", scope="COD")
    french = pdf_text(report)
    assert french.count("République démocratique du Congo") >= 2  # title and table
    assert "Democratic Republic of the Congo" not in french


# --- stored boundaries -------------------------------------------------------------------


@pytest.mark.django_db
def test_stored_country_boundaries_take_the_un_name_and_show_it_in_the_pages_language():
    from django.apps import apps
    from django.contrib.gis.geos import MultiPolygon, Polygon

    from geo.models import Country as CountryBoundary

    square = MultiPolygon(Polygon(((20, 0), (21, 0), (21, 1), (20, 1), (20, 0))), srid=4326)
    CountryBoundary.objects.all().delete()
    CountryBoundary.objects.create(
        iso3="COD", name="Congo, The Democratic Republic of the", boundary=square, source="test"
    )
    migration = importlib.import_module("geo.migrations.0018_country_names_un_m49")
    migration.un_names(apps, None)
    congo = CountryBoundary.objects.get(iso3="COD")
    assert congo.name == "Democratic Republic of the Congo"
    with translation.override("fr"):
        assert str(congo) == "République démocratique du Congo"
