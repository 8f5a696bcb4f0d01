"""Registry entries from a spreadsheet (CSV or XLSX), one weapon a row, all or nothing:
every bad cell is listed by row and column and nothing is written. The serials' trigger
queues the entries for the hit check, as for the form.

Columns (a header row, in any order; `serials` as the form takes them, `frame: AB123;
barrel: AB123`): see COLUMNS. The mission is chosen on the page (the writer's own)."""

import csv
import io
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from incidents.component_serials import component_serials_from_text
from incidents.models import RegistryEntry
from incidents.registry.services import registry_entry_create
from organisations.models import Mission

COLUMNS = (
    "category",
    "make",
    "model",
    "calibre",
    "marks",
    "circumstance",
    "occurred_on",
    "place",
    "country",
    "reporting_body_kind",
    "reporting_body",
    "contact",
    "releasability",
    "serials",
)
REQUIRED = {
    "category",
    "circumstance",
    "occurred_on",
    "country",
    "reporting_body_kind",
    "reporting_body",
    "contact",
    "releasability",
    "serials",
}
MOST_ROWS = 10_000


@dataclass
class RegistryImport:
    created: int = 0
    problems: list[str] = field(default_factory=list)


def _rows(upload, file_format: str) -> list[dict[str, str]]:
    if file_format == "xlsx":
        sheet = load_workbook(upload, read_only=True, data_only=True).active
        values = [
            ["" if cell is None else str(cell).strip() for cell in row]
            for row in sheet.iter_rows(values_only=True)
        ]
    else:
        text = upload.read().decode("utf-8-sig")
        values = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text))]
    if not values:
        raise ValidationError({"file": [_("The file is empty.")]})
    header = [name.lower() for name in values[0]]
    missing = sorted(REQUIRED - set(header))
    if missing:
        raise ValidationError(
            {"file": [_("Columns missing: %(columns)s.") % {"columns": ", ".join(missing)}]}
        )
    rows = [dict(zip(header, row, strict=False)) for row in values[1:] if any(row)]
    if len(rows) > MOST_ROWS:
        raise ValidationError({"file": [_("At most %(most)d rows a file.") % {"most": MOST_ROWS}]})
    return rows


@transaction.atomic
def registry_entries_import(
    *, upload, file_format: str, mission: Mission, by: AbstractBaseUser
) -> RegistryImport:
    """Create an entry per row, or none: ValidationError({"file": [problems]}) listing
    every bad cell as "row N, column: problem" (the header is row 1)."""
    result = RegistryImport()
    for number, row in enumerate(_rows(upload, file_format), start=2):
        fields = {name: row.get(name, "") for name in COLUMNS if name != "serials"}
        try:
            serials = component_serials_from_text(row.get("serials", ""))
        except ValidationError as error:
            result.problems += [f"{_('row')} {number}, serials: {m}" for m in error.messages]
            continue
        try:
            with transaction.atomic():
                registry_entry_create(
                    by=by,
                    entry=RegistryEntry(
                        **{**fields, "releasability": fields["releasability"] or None},
                        mission=mission,
                    ),
                    serials=serials,
                )
        except ValidationError as error:
            for column, messages in error.message_dict.items():
                result.problems += [f"{_('row')} {number}, {column}: {m}" for m in messages]
            continue
        result.created += 1
    if result.problems:
        raise ValidationError({"file": result.problems})
    return result
