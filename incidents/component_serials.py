"""Serial numbers of a weapon's parts: the frame or receiver, barrel, slide or cylinder and
bolt each carry their own under ISACS 05.30 (marking at manufacture), and a weapon
assembled from several weapons' parts shows several. A weapon's record keeps them
(`WeaponItem.component_serials`), and a trace request sends them (ISACS 05.31: the frame
or receiver's serial first, the other parts' to confirm it).

Stored as a JSON list, `[{"component": "barrel", "serial": "A123"}, ...]`, with the
component one of `WeaponComponent`'s codes. Forms and import files write them as text,
one `component: serial` per line or separated by semicolons (`barrel: A123; bolt: A123`).
"""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from incidents.choices import WeaponComponent

SERIAL_LENGTH = 60
MOST_COMPONENTS = 20
# One `component: serial` of the text form, components by their code.
TEXT_ENTRY = re.compile(r"^\s*([^:;\n]+?)\s*:\s*([^;\n]+?)\s*$")
ENTRY_SEPARATORS = re.compile(r"[;\n]")
# A serial holds none of the characters that separate entries in the text form.
SERIAL_SEPARATORS = re.compile(r"[;:\n\r]")


def validate_component_serials(value) -> None:
    """A list of at most MOST_COMPONENTS {"component": code, "serial": text} entries."""
    if not isinstance(value, list):
        raise ValidationError(_("Give a list of components, each with its serial."))
    if len(value) > MOST_COMPONENTS:
        raise ValidationError(_("Give at most %(most)d components.") % {"most": MOST_COMPONENTS})
    for number, entry in enumerate(value, 1):
        if (
            not isinstance(entry, dict)
            or set(entry) != {"component", "serial"}
            or entry["component"] not in WeaponComponent.values
            or not isinstance(entry["serial"], str)
            or not entry["serial"].strip()
            or len(entry["serial"]) > SERIAL_LENGTH
            or SERIAL_SEPARATORS.search(entry["serial"])
        ):
            raise ValidationError(
                _(
                    "Entry %(number)d: give the component (%(components)s) and its serial "
                    '(at most %(length)d characters, no ; or :), as {"component": "barrel", '
                    '"serial": "A123"}.'
                )
                % {
                    "number": number,
                    "components": ", ".join(WeaponComponent.values),
                    "length": SERIAL_LENGTH,
                }
            )


def component_serials_from_text(text: str) -> list[dict[str, str]]:
    """`barrel: A123; bolt: A124` (or one per line) as the stored list. A component is its
    code or its label in the active language, in any case. ValidationError naming the
    entry otherwise."""
    spellings = {code: code for code in WeaponComponent.values}
    spellings.update({str(label).lower(): code for code, label in WeaponComponent.choices})
    entries = []
    for number, piece in enumerate(
        (piece for piece in ENTRY_SEPARATORS.split(text or "") if piece.strip()), 1
    ):
        match = TEXT_ENTRY.match(piece)
        component = spellings.get(match.group(1).lower()) if match else None
        if component is None:
            raise ValidationError(
                _(
                    "Entry %(number)d (%(entry)s): write a component (%(components)s), a "
                    "colon, then its serial."
                )
                % {
                    "number": number,
                    "entry": piece.strip(),
                    "components": ", ".join(WeaponComponent.values),
                }
            )
        entries.append({"component": component, "serial": match.group(2)})
    validate_component_serials(entries)
    return entries


def component_serials_as_text(entries: list[dict[str, str]] | None) -> str:
    """The stored list as the text that `component_serials_from_text` reads back."""
    return "; ".join(f"{entry['component']}: {entry['serial']}" for entry in entries or [])


class ComponentSerialsField(forms.CharField):
    """The stored list, typed as text in a form."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 2}))
        kwargs.setdefault(
            "help_text", _("One per line or separated by semicolons: barrel: A1234; bolt: A1234.")
        )
        kwargs.pop("encoder", None)
        kwargs.pop("decoder", None)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list):
            return component_serials_as_text(value)
        return value

    def to_python(self, value):
        if isinstance(value, list):
            return value
        return component_serials_from_text(super().to_python(value))

    def has_changed(self, initial, data):
        try:
            return self.to_python(data) != (initial or [])
        except ValidationError:
            return True
