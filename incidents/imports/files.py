"""Turning an import file (CSV, XLSX, GeoJSON) into CSV text for PostgreSQL's COPY, after
refusing files that are not what they claim or could hurt the server.

CSV files go to COPY as they are (PostgreSQL parses them and checks their encoding); XLSX
and GeoJSON rows are written out as CSV first. Cells are checked later, in SQL.
"""

import csv
import io
import json
import os
import tempfile
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import BinaryIO
from xml.etree.ElementTree import ParseError
from xml.parsers.expat import ExpatError

from defusedxml import DefusedXmlException
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl.xml import DEFUSEDXML

from incidents.imports.columns import COLUMN_NAMES, OUTPUT_ONLY_COLUMNS, REQUIRED

FORMATS = ("csv", "xlsx", "geojson")
# Largest file accepted, by format, so that a worker stays well under 512 MiB on any one
# file: CSV streams into COPY (its size costs disk, not memory); an XLSX sheet streams but
# its shared strings are held in memory; a GeoJSON document is parsed whole (Python objects
# take some ten times the text).
MAX_BYTES = {"csv": 256 * 1024**2, "xlsx": 64 * 1024**2, "geojson": 24 * 1024**2}
XLSX_MAX_ENTRIES = 1_000
XLSX_MAX_UNCOMPRESSED = 2 * 1024**3
XLSX_MAX_SHARED_STRINGS = 64 * 1024**2
XLSX_MAX_RATIO = 200  # zip bombs compress far better than any real spreadsheet
ROW_PROBLEM = "row_problem"  # a column of our own: what the reader found wrong with a row


class ImportFileError(Exception):
    """The file as a whole cannot be read; nothing of it is imported."""


NO_ROWS = gettext_lazy("The file has no rows to import, only its column names.")


@dataclass
class CsvForCopy:
    columns: list[str]  # the file's columns, in its order
    stream: BinaryIO  # CSV with a header line, UTF-8


def _header(names: list[str]) -> list[str]:
    header = [str(name or "").strip().lower() for name in names]
    missing = [name for name in REQUIRED if name not in header]
    if not ({"latitude", "longitude"} <= set(header) or "coordinates" in header):
        missing.append("latitude and longitude (or coordinates)")
    if missing:
        raise ImportFileError(
            _("Missing required columns: %(columns)s.") % {"columns": ", ".join(missing)}
        )
    # An export's own columns (OUTPUT_ONLY_COLUMNS) are staged and never read.
    unknown = [name for name in header if name not in (*COLUMN_NAMES, *OUTPUT_ONLY_COLUMNS)]
    if unknown:
        raise ImportFileError(
            _("Unknown columns: %(unknown)s. The template's columns are: %(columns)s.")
            % {
                "unknown": ", ".join(name or _("(no name)") for name in unknown),
                "columns": ", ".join(COLUMN_NAMES),
            }
        )
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise ImportFileError(
            _("Columns given twice: %(columns)s.") % {"columns": ", ".join(repeated)}
        )
    return header


def csv_for_copy(upload: BinaryIO, file_format: str) -> CsvForCopy:
    readers = {"csv": _csv, "xlsx": _xlsx, "geojson": _geojson}
    if file_format not in readers:
        raise ImportFileError(
            _("Unknown format %(format)r; use one of %(formats)s.")
            % {"format": file_format, "formats": ", ".join(FORMATS)}
        )
    check_import_content(upload, file_format)
    return readers[file_format](upload)


def _size_of(upload: BinaryIO) -> int:
    position = upload.tell()
    size = upload.seek(0, os.SEEK_END)
    upload.seek(position)
    return size


def check_import_content(upload: BinaryIO, file_format: str) -> None:
    """Before any parser sees the file: its size, and that its bytes are what its format
    says (an XLSX is a ZIP container; CSV and GeoJSON are text without NUL bytes; GeoJSON
    starts with an object). Leaves the file at its start."""
    size = _size_of(upload)
    limit = MAX_BYTES[file_format]
    if size > limit:
        raise ImportFileError(
            _(
                "The file has %(size).1f MB; the limit for %(format)s is %(limit)d MB. "
                "Split it into several files."
            )
            % {"size": size / 1024**2, "format": file_format.upper(), "limit": limit // 1024**2}
        )
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    if not head.strip():
        raise ImportFileError(_("The file is empty."))
    if file_format == "xlsx":
        if not head.startswith(b"PK\x03\x04"):
            raise ImportFileError(
                _(
                    "The file is not a complete XLSX workbook: an XLSX is a ZIP container, "
                    "and this file starts with %(start)r."
                )
                % {"start": head[:8]}
            )
        return
    if head.startswith((b"PK\x03\x04", b"\x89PNG", b"\xff\xd8\xff", b"%PDF", b"\xd0\xcf\x11\xe0")):
        raise ImportFileError(
            _(
                "The file is not %(format)s text but a binary file (it starts with "
                "%(start)r); an Excel workbook must be saved as .xlsx."
            )
            % {"format": file_format.upper(), "start": head[:8]}
        )
    # UTF-16 text (what Excel's "Unicode text" writes) is half NUL bytes: say what it is.
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head[1:200:2].count(0) > 50:
        raise ImportFileError(
            _("The file is not UTF-8 text (it looks like UTF-16); save it as 'CSV UTF-8'.")
        )
    line, offset = 1, 0
    while chunk := upload.read(1 << 20):
        found = chunk.find(b"\0")
        if found >= 0:
            line += chunk.count(b"\n", 0, found)
            upload.seek(0)
            raise ImportFileError(
                _(
                    "The file holds a NUL byte (line %(line)d, byte %(byte)d): it is not a "
                    "text file, or it is damaged."
                )
                % {"line": line, "byte": offset + found + 1}
            )
        line += chunk.count(b"\n")
        offset += len(chunk)
    upload.seek(0)
    if file_format == "geojson" and not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        raise ImportFileError(_("The file is not GeoJSON: a GeoJSON document starts with '{'."))


def upload_display_name(name: str | None) -> str:
    """An uploaded file's name as it may be shown and stored: no folders (../), no control
    characters, at most 200 characters. Files are never stored under this name."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(
        character for character in base if unicodedata.category(character)[0] != "C"
    ).strip(" .")
    return cleaned[:200] or "upload"


def _csv(upload: BinaryIO) -> CsvForCopy:
    first_line = upload.readline()
    if not first_line.strip():
        raise ImportFileError(_("The file is empty."))
    try:
        names = next(csv.reader([first_line.decode("utf-8-sig")]))
    except UnicodeDecodeError as error:
        raise ImportFileError(_("The file is not UTF-8 text; save it as 'CSV UTF-8'.")) from error
    upload.seek(0)
    return CsvForCopy(_header(names), upload)


def _written(columns: list[str], rows) -> CsvForCopy:
    spool = tempfile.SpooledTemporaryFile(max_size=64 * 1024**2)  # noqa: SIM115 - returned
    text = io.TextIOWrapper(spool, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow(columns)
    writer.writerows(rows)
    text.detach()
    spool.seek(0)
    return CsvForCopy(columns, spool)


def _check_xlsx_container(archive: zipfile.ZipFile) -> None:
    entries = archive.infolist()
    if len(entries) > XLSX_MAX_ENTRIES:
        raise ImportFileError(
            _("The XLSX holds %(parts)d parts; refusing more than %(limit)d.")
            % {"parts": len(entries), "limit": XLSX_MAX_ENTRIES}
        )
    declared = sum(entry.file_size for entry in entries)
    compressed = sum(entry.compress_size for entry in entries) or 1
    if declared > XLSX_MAX_UNCOMPRESSED or declared / compressed > XLSX_MAX_RATIO:
        raise ImportFileError(
            _(
                "The XLSX expands to far more than it holds (%(declared).0f MB from "
                "%(compressed).1f MB): refused as a zip bomb."
            )
            % {"declared": declared / 1024**2, "compressed": compressed / 1024**2}
        )
    strings = sum(
        entry.file_size for entry in entries if entry.filename.endswith("sharedStrings.xml")
    )
    if strings > XLSX_MAX_SHARED_STRINGS:
        raise ImportFileError(
            _("The workbook's shared strings take %(size).0f MB; the limit is %(limit)d MB.")
            % {"size": strings / 1024**2, "limit": XLSX_MAX_SHARED_STRINGS // 1024**2}
        )
    # No part of a real workbook declares a DTD; one that does is an entity-expansion
    # ("billion laughs") or external-entity attack. A DTD comes before the root element, so
    # the start of each XML part tells. (defusedxml would refuse it too, deep in openpyxl.)
    for entry in entries:
        if entry.filename.endswith((".xml", ".rels", ".vml")):
            with archive.open(entry) as part:
                if b"<!DOCTYPE" in part.read(4096).upper():
                    raise ImportFileError(
                        _(
                            "The workbook's XML part %(part)s declares entities or a DTD (an "
                            "entity-expansion or external-entity attack): refused."
                        )
                        % {"part": entry.filename}
                    )
    sheets = [
        entry.filename for entry in entries if entry.filename.startswith("xl/worksheets/sheet")
    ]
    if len(sheets) != 1:
        raise ImportFileError(
            _("The workbook has %(sheets)d sheets; keep the data on one.") % {"sheets": len(sheets)}
        )
    with archive.open(sheets[0]) as sheet:
        tail = b""
        while chunk := sheet.read(1 << 20):
            if b"<mergeCell " in tail + chunk:
                raise ImportFileError(
                    _(
                        "The sheet has merged cells; unmerge them so that every row carries "
                        "its own values."
                    )
                )
            tail = chunk[-32:]


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Decimal) and _spelled_out(value):  # a GeoJSON number
        if value == value.to_integral_value():  # 1.0 is the whole number 1
            return str(int(value))
        return format(value, "f")
    return str(value)


def _spelled_out(value: Decimal) -> bool:
    # Exponents that would spell out as thousands of digits stay as written (and fail the
    # number check).
    return value.is_finite() and abs(value.adjusted()) <= 20


def _coordinate_text(value: object) -> str:
    """A GeoJSON coordinate as written, trailing zeros kept: 5.500000 is good to 0.1 m,
    where 5.5 is good to 11 km."""
    if isinstance(value, Decimal) and _spelled_out(value):
        return format(value, "f")
    return _cell_text(value)


def _xlsx(upload: BinaryIO) -> CsvForCopy:
    try:
        return _read_xlsx(upload)
    except DefusedXmlException as error:
        raise ImportFileError(
            _(
                "The workbook's XML declares entities or a DTD (an entity-expansion or "
                "external-entity attack, or not an Excel file): refused."
            )
        ) from error
    except (ExpatError, ParseError, ValueError) as error:
        raise ImportFileError(
            _("The workbook's XML cannot be read: %(error)s.") % {"error": error}
        ) from error
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, zlib.error) as error:
        raise ImportFileError(
            "The file is not a complete XLSX workbook (cut short, or another format)."
        ) from error


def _read_xlsx(upload: BinaryIO) -> CsvForCopy:
    from openpyxl import load_workbook

    # openpyxl reads XML through defusedxml when it is installed (a requirement): DTDs,
    # entity expansion and external entities are refused, not resolved.
    if not DEFUSEDXML:
        raise ImportFileError(_("The server cannot read XLSX safely: defusedxml is missing."))
    try:
        with zipfile.ZipFile(upload) as archive:
            _check_xlsx_container(archive)
        upload.seek(0)
        workbook = load_workbook(upload, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError) as error:
        raise ImportFileError(
            "The file is not a complete XLSX workbook (cut short, or another format)."
        ) from error
    try:
        rows = workbook.active.iter_rows(values_only=True)
        try:
            header = _header(list(next(rows)))
        except StopIteration:
            raise ImportFileError(_("The sheet is empty.")) from None
        width = len(header)
        return _written(
            header,
            (
                [_cell_text(value) for value in values[:width]]
                for values in rows
                if any(value not in (None, "") for value in values)
            ),
        )
    finally:
        workbook.close()


def _check_features(features: list) -> None:
    """Refuse, naming the feature (counted from 1, as the import's rows are), a structure
    that is not a GeoJSON Feature: objects where RFC 7946 (§3.2) wants them."""
    for number, feature in enumerate(features, start=1):
        if not isinstance(feature, dict):
            raise ImportFileError(
                _("Feature %(number)d of the GeoJSON is not an object.") % {"number": number}
            )
        for member in ("properties", "geometry"):
            if feature.get(member) is not None and not isinstance(feature[member], dict):
                raise ImportFileError(
                    _(
                        "Feature %(number)d of the GeoJSON: its %(member)s must be an "
                        "object or null."
                    )
                    % {"number": number, "member": member}
                )


def _geojson(upload: BinaryIO) -> CsvForCopy:
    try:
        # Numbers as Decimal: a coordinate's written decimals say how precise it is.
        document = json.load(io.TextIOWrapper(upload, encoding="utf-8-sig"), parse_float=Decimal)
    except RecursionError as error:
        # The parser recurses once per level; it stops at the interpreter's limit (about
        # a thousand levels), long before memory is at risk.
        raise ImportFileError(
            _("The GeoJSON nests arrays or objects about a thousand levels deep: refused.")
        ) from error
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ImportFileError(
            _("The file is not valid GeoJSON: %(error)s.") % {"error": error}
        ) from error
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise ImportFileError(_("The GeoJSON must be a FeatureCollection."))
    features = document.get("features") or []
    if not isinstance(features, list):
        raise ImportFileError(_("The GeoJSON's features must be a list of Feature objects."))
    if not features:
        raise ImportFileError(NO_ROWS)
    _check_features(features)
    names = sorted(
        {name for feature in features for name in (feature.get("properties") or {})}
        - {"latitude", "longitude"}
    )
    columns = [*_header([*names, "latitude", "longitude"]), ROW_PROBLEM]

    def rows():
        for feature in features:
            cells = {
                name: _cell_text(value) for name, value in (feature.get("properties") or {}).items()
            }
            geometry = feature.get("geometry") or {}
            point = geometry.get("coordinates")
            problem = ""
            if geometry.get("type") != "Point" or not isinstance(point, list) or len(point) < 2:
                problem = _("the geometry is not a Point")
            else:
                cells["longitude"], cells["latitude"] = map(_coordinate_text, point[:2])
            yield [*(cells.get(name, "") for name in columns[:-1]), problem]

    return _written(columns, rows())
