"""Writing a report's document into its files: the PDF (a Django template printed by
WeasyPrint), one workbook with a sheet per table (openpyxl), and one CSV per table with an
optional HXL hashtag row."""

from __future__ import annotations

import csv
import io
import logging
from datetime import datetime

from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from reports.documents import Document, Table

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
    writer.writerow([safe_cell(column) for column in table.columns])
    if hxl:
        writer.writerow(table.hxl)
    for row in table.rows:
        writer.writerow([safe_cell(value) for value in row])
    # With a byte-order mark, so that spreadsheet programs read the UTF-8 right.
    return ("\ufeff" + buffer.getvalue()).encode()
