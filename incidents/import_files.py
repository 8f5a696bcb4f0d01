"""Turning an import file (CSV, XLSX, GeoJSON) into CSV text for PostgreSQL's COPY, after
refusing files that are not what they claim or could hurt the server.

CSV files go to COPY as they are (PostgreSQL parses them and checks their encoding); XLSX
and GeoJSON rows are written out as CSV first. Cells are checked later, in SQL.
"""

import csv
import io
import json
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from typing import BinaryIO

from incidents.import_columns import COLUMN_NAMES, REQUIRED

FORMATS = ("csv", "xlsx", "geojson")
XLSX_MAX_ENTRIES = 1_000
XLSX_MAX_UNCOMPRESSED = 2 * 1024**3
XLSX_MAX_RATIO = 200  # zip bombs compress far better than any real spreadsheet
ROW_PROBLEM = "row_problem"  # a column of our own: what the reader found wrong with a row


class ImportFileError(Exception):
    """The file as a whole cannot be read; nothing of it is imported."""


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
        raise ImportFileError(f"Missing required columns: {', '.join(missing)}.")
    unknown = [name for name in header if name not in COLUMN_NAMES]
    if unknown:
        raise ImportFileError(
            f"Unknown columns: {', '.join(name or '(no name)' for name in unknown)}. The "
            f"template's columns are: {', '.join(COLUMN_NAMES)}."
        )
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise ImportFileError(f"Columns given twice: {', '.join(repeated)}.")
    return header


def csv_for_copy(upload: BinaryIO, file_format: str) -> CsvForCopy:
    readers = {"csv": _csv, "xlsx": _xlsx, "geojson": _geojson}
    if file_format not in readers:
        raise ImportFileError(f"Unknown format {file_format!r}; use one of {FORMATS}.")
    return readers[file_format](upload)


def _csv(upload: BinaryIO) -> CsvForCopy:
    first_line = upload.readline()
    if not first_line.strip():
        raise ImportFileError("The file is empty.")
    try:
        names = next(csv.reader([first_line.decode("utf-8-sig")]))
    except UnicodeDecodeError as error:
        raise ImportFileError("The file is not UTF-8 text; save it as 'CSV UTF-8'.") from error
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
            f"The XLSX holds {len(entries)} parts; refusing more than {XLSX_MAX_ENTRIES}."
        )
    declared = sum(entry.file_size for entry in entries)
    compressed = sum(entry.compress_size for entry in entries) or 1
    if declared > XLSX_MAX_UNCOMPRESSED or declared / compressed > XLSX_MAX_RATIO:
        raise ImportFileError("The XLSX expands to far more than it holds (a zip bomb?).")
    sheets = [
        entry.filename for entry in entries if entry.filename.startswith("xl/worksheets/sheet")
    ]
    if len(sheets) != 1:
        raise ImportFileError(f"The workbook has {len(sheets)} sheets; keep the data on one.")
    with archive.open(sheets[0]) as sheet:
        tail = b""
        while chunk := sheet.read(1 << 20):
            if b"<mergeCell " in tail + chunk:
                raise ImportFileError(
                    "The sheet has merged cells; unmerge them so that every "
                    "row carries its own values."
                )
            tail = chunk[-32:]


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx(upload: BinaryIO) -> CsvForCopy:
    from openpyxl import load_workbook  # with defusedxml installed, XML is read safely

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
            raise ImportFileError("The sheet is empty.") from None
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


def _geojson(upload: BinaryIO) -> CsvForCopy:
    try:
        document = json.load(io.TextIOWrapper(upload, encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ImportFileError(f"The file is not valid GeoJSON: {error}.") from error
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise ImportFileError("The GeoJSON must be a FeatureCollection.")
    features = document.get("features") or []
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
                problem = "the geometry is not a Point"
            else:
                cells["longitude"], cells["latitude"] = map(_cell_text, point[:2])
            yield [*(cells.get(name, "") for name in columns[:-1]), problem]

    return _written(columns, rows())
