"""Reading import files (CSV, XLSX, GeoJSON) into rows of text cells, refusing files that
are not what they claim or could hurt the server before anything is parsed."""

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from typing import BinaryIO

from incidents.import_columns import COLUMN_NAMES, REQUIRED

FORMATS = ("csv", "xlsx", "geojson")
XLSX_MAX_ENTRIES = 1_000
XLSX_MAX_UNCOMPRESSED = 2 * 1024**3
XLSX_MAX_RATIO = 200  # zip bombs compress far better than any real spreadsheet


class ImportFileError(Exception):
    """The file as a whole cannot be read; nothing of it is imported."""


Row = tuple[int, dict[str, str]]


def _header(names: list[str]) -> list[str]:
    header = [str(name or "").strip().lower() for name in names]
    missing = [name for name in REQUIRED if name not in header]
    if not ({"latitude", "longitude"} <= set(header) or "coordinates" in header):
        missing.append("latitude and longitude (or coordinates)")
    if missing:
        raise ImportFileError(f"Missing required columns: {', '.join(missing)}.")
    unknown = [name for name in header if name and name not in COLUMN_NAMES]
    if unknown:
        raise ImportFileError(
            f"Unknown columns: {', '.join(unknown)}. The template's columns are: "
            f"{', '.join(COLUMN_NAMES)}."
        )
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:
        raise ImportFileError(f"Columns given twice: {', '.join(repeated)}.")
    return header


def read_rows(upload: BinaryIO, file_format: str) -> Iterator[Row]:
    """Rows numbered as a spreadsheet numbers them (the header is row 1)."""
    readers = {"csv": _csv_rows, "xlsx": _xlsx_rows, "geojson": _geojson_rows}
    if file_format not in readers:
        raise ImportFileError(f"Unknown format {file_format!r}; use one of {FORMATS}.")
    return readers[file_format](upload)


def _csv_rows(upload: BinaryIO) -> Iterator[Row]:
    text = io.TextIOWrapper(upload, encoding="utf-8-sig", errors="strict", newline="")
    reader = csv.reader(text)
    try:
        header = _header(next(reader))
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(header):
                yield (
                    reader.line_num,
                    {"__cells__": f"{len(cells)} cells, the header has {len(header)}"},
                )
                continue
            yield (
                reader.line_num,
                {name: cell.strip() for name, cell in zip(header, cells, strict=True) if name},
            )
    except StopIteration:
        raise ImportFileError("The file is empty.") from None
    except UnicodeDecodeError as error:
        raise ImportFileError(
            f"The file is not UTF-8 text (a bad byte near line {reader.line_num + 1}); save "
            "it as 'CSV UTF-8'."
        ) from error
    except csv.Error as error:
        raise ImportFileError(
            f"The CSV is malformed near line {reader.line_num}: {error}. Was it cut short?"
        ) from error


def _check_xlsx_container(archive: zipfile.ZipFile) -> str:
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
    return sheets[0]


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _xlsx_rows(upload: BinaryIO) -> Iterator[Row]:
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
        for number, values in enumerate(rows, start=2):
            cells = [_cell_text(value) for value in values]
            if not any(cells):
                continue
            yield number, {name: cell for name, cell in zip(header, cells, strict=False) if name}
    finally:
        workbook.close()


def _geojson_rows(upload: BinaryIO) -> Iterator[Row]:
    try:
        document = json.load(io.TextIOWrapper(upload, encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ImportFileError(f"The file is not valid GeoJSON: {error}.") from error
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise ImportFileError("The GeoJSON must be a FeatureCollection.")
    features = document.get("features") or []
    properties = {name for feature in features for name in (feature.get("properties") or {})}
    _header([*properties, "latitude", "longitude"])
    for number, feature in enumerate(features, start=1):
        cells = {
            name: _cell_text(value) for name, value in (feature.get("properties") or {}).items()
        }
        geometry = feature.get("geometry") or {}
        coordinates = geometry.get("coordinates")
        if (
            geometry.get("type") != "Point"
            or not isinstance(coordinates, list)
            or len(coordinates) < 2
        ):
            cells["__cells__"] = "the geometry is not a Point"
        else:
            cells["longitude"], cells["latitude"] = map(_cell_text, coordinates[:2])
        yield number, cells
