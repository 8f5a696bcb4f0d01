"""Query parameters of the geo endpoints, validated so that errors name the field."""

from django import forms

from geo.core.coordinates import parse_coordinates
from geo.countries import validate_country_code


class ZoomForm(forms.Form):
    zoom = forms.IntegerField(min_value=0, max_value=20, initial=4, required=False)

    def clean_zoom(self) -> int:
        zoom = self.cleaned_data["zoom"]
        return 4 if zoom is None else zoom


class CountriesForm(ZoomForm):
    """`countries`: ISO 3166-1 alpha-3 codes separated by commas, to draw those alone (the
    entry form's map draws its mission's host countries, not the world)."""

    countries = forms.CharField(max_length=400, required=False)

    def clean_countries(self) -> tuple[str, ...]:
        codes = [code.strip().upper() for code in self.cleaned_data["countries"].split(",")]
        codes = sorted({code for code in codes if code})
        for code in codes:
            validate_country_code(code)
        return tuple(codes)


class AdminAreasForm(ZoomForm):
    country = forms.CharField(max_length=3, validators=[validate_country_code])
    level = forms.IntegerField(min_value=0, max_value=5)


class PlaceSearchForm(forms.Form):
    q = forms.CharField(min_length=2, max_length=100)
    country = forms.CharField(max_length=3, required=False, validators=[validate_country_code])
    limit = forms.IntegerField(min_value=1, max_value=50, required=False)


class LocateForm(forms.Form):
    coordinates = forms.CharField(max_length=100)

    def clean_coordinates(self):
        return parse_coordinates(self.cleaned_data["coordinates"])
