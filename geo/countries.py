"""Countries are ISO 3166-1 alpha-3 codes everywhere in ArmsMonitor (`CAF`, `FRA`, `NGA`).

The list comes from pycountry, which tracks the ISO 3166 maintenance agency's releases.
"""

import pycountry
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def country_name(alpha3: str) -> str:
    country = pycountry.countries.get(alpha_3=alpha3)
    return country.name if country else alpha3


def validate_country_code(value: str) -> None:
    if pycountry.countries.get(alpha_3=value) is None:
        raise ValidationError(
            _("%(value)s is not an ISO 3166-1 alpha-3 country code."),
            code="invalid_country",
            params={"value": value},
        )


COUNTRY_CHOICES = sorted(
    ((country.alpha_3, country.name) for country in pycountry.countries),
    key=lambda choice: choice[1],
)
