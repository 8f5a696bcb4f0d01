"""Writing a report's document into its files: the PDF (a Django template printed by
WeasyPrint), one workbook with a sheet per table (openpyxl), and one CSV per table with an
optional HXL hashtag row."""

from __future__ import annotations

import csv
import io
import logging
import re
from datetime import datetime

from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from geo.countries import country_name
from incidents import suppression
from reports.documents.document import Document, Table

# WeasyPrint logs each of its steps at INFO: a worker's log would be full of them.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

# A text cell starting with one of these is read as a formula by spreadsheet programs.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """Text that a spreadsheet would read as a formula comes out as text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def pdf_bytes(document: Document, *, report, generated_at: datetime) -> bytes:
    from weasyprint import HTML

    html = render_to_string(
        "reports/document.html",
        {"document": document, "report": report, "generated_at": generated_at},
    )
    # No base URL: the pictures are data URIs and nothing else is fetched.
    return HTML(string=html).write_pdf()


def xlsx_bytes(document: Document, *, report, generated_at: datetime) -> bytes:
    workbook = Workbook()
    about = workbook.active
    about.title = _("Report")[:31]
    for name, value in [
        (_("Report"), document.title),
        (_("Scope"), document.subtitle),
        (_("Period"), report.period_label),
        (_("Generated at (UTC)"), generated_at.strftime("%Y-%m-%d %H:%M")),
        (_("Data fingerprint"), report.data_fingerprint),
        (_("Records counted"), _("Verified records only, whoever asks")),
        *[(_("Note"), note) for note in document.notes],
    ]:
        about.append([name, safe_cell(value)])
    used = {about.title}
    for table in document.tables:
        sheet = workbook.create_sheet(_sheet_title(table, used))
        sheet.append([safe_cell(column) for column in table.columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([safe_cell(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet_title(table: Table, used: set[str]) -> str:
    title = table.name[:31]
    number = 2
    while title in used:
        suffix = f"_{number}"
        title = table.name[: 31 - len(suffix)] + suffix
        number += 1
    used.add(title)
    return title


def csv_bytes(table: Table, *, hxl: bool) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if hxl:
        columns = hxl_columns(table)
        writer.writerow([safe_cell(header) for header, _tag, _cells in columns])
        writer.writerow([tag for _header, tag, _cells in columns])
        rows = zip(*(cells for _header, _tag, cells in columns), strict=True)
    else:
        writer.writerow([safe_cell(column) for column in table.columns])
        rows = table.rows
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    # With a byte-order mark, so that spreadsheet programs read the UTF-8 right.
    return ("\ufeff" + buffer.getvalue()).encode()


# --- HXL ------------------------------------------------------------------------------
# The HXL hashtag dictionary (https://hxlstandard.org/standard/dictionary/) wants one value
# per cell, and under #country+code the code only (ISO 3166-1 alpha-3, its default
# vocabulary for #country), with the name in a #country+name column of its own. The PDF
# and the workbook show a country as "Central African Republic (CAF)" (sections.
# country_label) and some cells as lists; the HXL CSV takes those columns apart.

# sections.country_label's "Name (CODE)".
COUNTRY_LABEL = re.compile(r"^(?P<name>.+) \((?P<code>[A-Z]{3})\)$")
COUNTRY_CODE = re.compile(r"^[A-Z]{3}$")


def hxl_columns(table: Table) -> list[tuple[str, str, list]]:
    """The table's columns as its HXL CSV has them: (header, hashtag, cells)."""
    tags = [tag.replace(" ", "") for tag in table.hxl]
    columns: list[tuple[str, str, list]] = []
    for index, (header, tag) in enumerate(zip(table.columns, tags, strict=True)):
        cells = [row[index] for row in table.rows]
        for part_header, part_cells in _one_value_per_cell(header, cells, table.lists.get(index)):
            name_tag = tag.replace("+code", "+name")
            # A table with a name column of its own (SDG 16.4.2) keeps its columns.
            if _is_country_code(tag) and name_tag not in tags:
                parts = [_country_parts(cell) for cell in part_cells]
                columns.append((part_header, name_tag, [name for _code, name in parts]))
                columns.append(
                    (
                        _("%(column)s (ISO 3166-1 alpha-3)") % {"column": part_header},
                        tag,
                        [code for code, _name in parts],
                    )
                )
            elif _is_numeric(tag) and any(map(suppression.is_suppressed, part_cells)):
                columns += _suppressed_columns(part_header, tag, _numbers(part_cells))
            elif _is_numeric(tag):
                columns.append((part_header, tag, _numbers(part_cells)))
            else:
                columns.append((part_header, tag, part_cells))
    return columns


def _is_numeric(tag: str) -> bool:
    hashtag, *attributes = tag.split("+")
    return "num" in attributes or hashtag == "#affected"


def _numbers(cells: list) -> list:
    """A numeric column's cells, with "no data" and "partial year" (no number to give)
    left empty: one number or nothing per cell."""
    no_number = {_("no data"), _("partial year")}
    return ["" if isinstance(cell, str) and cell in no_number else cell for cell in cells]


def _suppressed_columns(header: str, tag: str, cells: list) -> list[tuple[str, str, list]]:
    """A numeric column with suppressed cells ("< 5", "x": incidents.suppression): the
    numbers, with the suppressed cells left empty, then a #meta+suppressed column saying
    which were suppressed and how ("< 5" or "x")."""
    hidden = [suppression.is_suppressed(cell) for cell in cells]
    return [
        (header, tag, ["" if h else cell for h, cell in zip(hidden, cells, strict=True)]),
        (
            _("%(column)s: suppressed") % {"column": header},
            "#meta+suppressed",
            [cell if h else "" for h, cell in zip(hidden, cells, strict=True)],
        ),
    ]


def _is_country_code(tag: str) -> bool:
    hashtag, *attributes = tag.split("+")
    return hashtag == "#country" and "code" in attributes


def _one_value_per_cell(header: str, cells: list, separator: str | None):
    """A list column spread over as many columns as its longest list ("Transit countries
    1", "Transit countries 2", …, one hashtag repeated, as HXL allows); others as they are."""
    if separator is None:
        return [(header, cells)]
    lists = [[item for item in str(cell or "").split(separator) if item] for cell in cells]
    width = max((len(items) for items in lists), default=0) or 1
    return [
        (f"{header} {n + 1}", [items[n] if n < len(items) else "" for items in lists])
        for n in range(width)
    ]


def _country_parts(cell) -> tuple[str, str]:
    """(code, name) of a country cell: "Name (CODE)", a bare code, or a word such as
    "Unknown" that has no code."""
    text = str(cell or "")
    if match := COUNTRY_LABEL.match(text):
        return match["code"], match["name"]
    if COUNTRY_CODE.match(text):
        # A form that shows codes only (ISACS 05.31): the name from the country list.
        name = country_name(text)
        return text, "" if name == text else name
    return "", text
