"""Countries are ISO 3166-1 alpha-3 codes everywhere in ArmsMonitor (`CAF`, `FRA`, `NGA`).

Which codes exist comes from pycountry, which tracks the ISO 3166 maintenance agency's
releases. What a code is called comes from the UN: the M49 name (UN Statistics Division,
"Standard country or area codes for statistical use") in the active Django language, so that
French pages and French reports say "République démocratique du Congo" where English ones say
"Democratic Republic of the Congo". The names are those of UN OCHA's Countries & Territories
taxonomy, which the hdx-python-country package ships as a file (version pinned in
requirements.txt). The file is read once per process; the package's live feed is never asked
for, so naming a country needs no network.

Where M49 has no name for a code in a language, the name is, in this order:

1. the UNTERM short name in that language (same taxonomy);
2. in English, OCHA's preferred term ("Taiwan (Province of China)"; "Kosovo" for the
   user-assigned code XKX, which the taxonomy lists outside ISO 3166);
3. the ISO 3166 name (pycountry), translated by the iso-codes catalogue pycountry ships;
4. the name in English;
5. the code itself: `country_name(code) == code` means "not a country code we know".
"""

import functools
import gettext
import unicodedata

import pycountry
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.choices import CallableChoiceIterator
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

# The languages the taxonomy names countries in (the UN's six), by Django language code.
TAXONOMY_LANGUAGES = {
    "en": "English",
    "fr": "French",
    "es": "Spanish",
    "ru": "Russian",
    "zh": "Chinese",
    "ar": "Arabic",
}


@functools.cache
def taxonomy() -> dict[str, dict[str, str]]:
    """OCHA's Countries & Territories rows by alpha-3 code, read once from the file inside
    hdx-python-country (never its live feed), unofficial codes such as XKX included."""
    # Imported here, not at the top: the package pulls in frictionless, whose import takes
    # a third of a second that every process importing the models would otherwise pay.
    from hdx.location.country import Country
    from hdx.utilities.downloader import Download

    Country.set_use_live_default(False)
    # Our own downloader, closed once read (the package's default one leaves the file open),
    # and deaf to the generic variables it would otherwise read (BASIC_AUTH, EXTRA_PARAMS).
    with Download(user_agent="ArmsMonitor", use_env=False) as downloader:
        data = Country.countriesdata(use_live=False, include_unofficial=True, downloader=downloader)
    return dict(data["countries"])


@functools.cache
def _names(language: str) -> dict[str, str]:
    """Every known code's name in one of TAXONOMY_LANGUAGES, fallbacks applied."""
    english = {} if language == "en" else _names("en")
    column = TAXONOMY_LANGUAGES[language]
    iso = gettext.translation(
        "iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True
    )
    iso_names = {country.alpha_3: country.name for country in pycountry.countries}
    rows = taxonomy()
    names = {}
    for code in iso_names.keys() | rows.keys():
        row = rows.get(code, {})
        candidates = [row.get(f"M49 {column}"), row.get(f"{column} Short")]
        if language == "en":
            candidates.append(row.get("Preferred Term"))
        if code in iso_names:
            candidates.append(iso.gettext(iso_names[code]))
        candidates.append(english.get(code))
        names[code] = next((name.strip() for name in candidates if name and name.strip()), code)
    return names


def active_language() -> str:
    """The active Django language as a key of TAXONOMY_LANGUAGES (English otherwise)."""
    language = (get_language() or settings.LANGUAGE_CODE).split("-")[0].lower()
    return language if language in TAXONOMY_LANGUAGES else "en"


def country_name(alpha3: str, language: str | None = None) -> str:
    """The UN name of an alpha-3 code in `language` (default: the active one); the code
    itself when it names no country."""
    if not alpha3:
        return alpha3
    return _names(language or active_language()).get(alpha3.upper(), alpha3)


def validate_country_code(value: str) -> None:
    if pycountry.countries.get(alpha_3=value) is None:
        raise ValidationError(
            _("%(value)s is not an ISO 3166-1 alpha-3 country code."),
            code="invalid_country",
            params={"value": value},
        )


def sort_key(name: str) -> str:
    """Alphabetical order as a reader expects it: "Égypte" among the E, "Îles Cook" among
    the I, case ignored."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def country_choices() -> list[tuple[str, str]]:
    """(code, UN name) of every ISO 3166 country, in the active language and its order."""
    codes = (country.alpha_3 for country in pycountry.countries)
    choices = [(code, country_name(code)) for code in codes]
    return sorted(choices, key=lambda choice: sort_key(choice[1]))


# Lazy: read in the language active when a form is rendered, not when this is imported.
COUNTRY_CHOICES = CallableChoiceIterator(country_choices)
