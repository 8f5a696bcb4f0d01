"""The import in the browser's place: upload, report page, templates; large files go to a
real Celery worker and the page follows its progress."""

import threading
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from incidents.imports import importer
from incidents.models import ImportJob, Incident
from tests.personas import build_world
from tests.test_faults import _own_connection
from tests.test_import import CLEAN_ROWS, HEADER, bad, csv_file


def upload(client, world, content: bytes, name="seizures.csv", language="en"):
    alpha = world.records["alpha_draft_L1"].contingent
    return client.post(
        "/incidents/import/",
        {
            "file": SimpleUploadedFile(name, content),
            "contingent": alpha.pk,
        },
        HTTP_ACCEPT_LANGUAGE=language,
    )


def test_a_small_clean_file_is_imported_at_once_and_reported(client, world):
    client.force_login(world.users["reporter_alpha"])

    response = upload(client, world, csv_file(CLEAN_ROWS).getvalue())

    job = ImportJob.objects.get()
    assert response["Location"] == f"/incidents/import/{job.pk}"
    assert job.state == "done" and job.report["incidents_created"] == 3
    page = client.get(response["Location"]).content.decode()
    assert "3 incidents and 3 weapons imported as drafts" in page


def test_a_file_with_problems_shows_each_by_row_and_column(client, world):
    client.force_login(world.users["reporter_alpha"])
    before = Incident.objects.count()

    response = upload(client, world, csv_file(bad(1, "weapon_quantity", "-4")).getvalue())

    page = client.get(response["Location"]).content.decode()
    assert "1 problem; nothing was imported." in page
    assert "<td>3</td><td>weapon_quantity</td>" in page
    assert Incident.objects.count() == before
    assert ImportJob.objects.get().state == "refused"


def test_problems_are_listed_in_the_language_of_the_page_the_file_was_sent_from(client, world):
    client.force_login(world.users["reporter_alpha"])
    rows = bad(1, "weapon_quantity", "-4")
    rows[2][HEADER.index("occurred_at")] = "2025-02-30"
    rows[0][HEADER.index("latitude")], rows[0][HEADER.index("longitude")] = "0", "0"

    french = upload(client, world, csv_file(rows).getvalue(), language="fr")
    header_only = upload(client, world, csv_file([]).getvalue(), language="fr")
    english = upload(client, world, csv_file(rows).getvalue())

    page = client.get(french["Location"], HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "weapon_quantity -4 est hors limites (1 à 100000)" in page
    assert "&#x27;2025-02-30&#x27; n&#x27;est pas une date" in page
    assert ImportJob.objects.get(pk=_job_id(header_only)).report["file_error"] == (
        "Le fichier n'a aucune ligne à importer, seulement les noms de ses colonnes."
    )
    page = client.get(english["Location"]).content.decode()
    assert "weapon_quantity -4 is out of range (1 to 100000)" in page


def _job_id(response) -> int:
    return int(response["Location"].rsplit("/", 1)[1])


def test_other_file_types_are_refused_on_the_form(client, world):
    client.force_login(world.users["reporter_alpha"])
    response = upload(client, world, b"%PDF-1.4", name="seizures.pdf")
    assert response.status_code == 200
    assert "Send a .csv, .xlsx or .geojson file." in response.content.decode()
    assert not ImportJob.objects.exists()


def test_templates_carry_every_column(client, world):
    client.force_login(world.users["reporter_alpha"])
    csv_template = client.get("/incidents/import/template.csv")
    assert csv_template.content.decode().strip().split(",")[:3] == [
        "external_reference",
        "occurred_at",
        "date_precision",
    ]
    xlsx = client.get("/incidents/import/template.xlsx")
    assert xlsx["Content-Disposition"] == 'attachment; filename="armsmonitor-import.xlsx"'
    assert client.get("/incidents/import/template.pdf").status_code == 404
    client.force_login(world.users["mission_analyst"])
    assert client.get("/incidents/import/").status_code == 403


def test_someone_elses_import_job_is_not_found(client, world):
    client.force_login(world.users["reporter_alpha"])
    upload(client, world, csv_file(CLEAN_ROWS).getvalue())
    client.force_login(world.users["reporter_bravo"])
    assert client.get(f"/incidents/import/{ImportJob.objects.get().pk}").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_large_file_runs_in_the_celery_worker_and_its_page_shows_rising_counts(
    client, celery_worker_process, monkeypatch
):
    world = build_world()
    monkeypatch.setattr(importer, "SYNCHRONOUS_LIMIT_BYTES", 100)  # everything is "large"
    total = 100_000
    rows = [
        [
            f"BIG-{n}",
            "2025-01-01",
            "4.39",
            "18.55",
            "cache_discovery",
            "other",
            "1",
            "mortar",
            "",
            "",
            "1",
        ]
        for n in range(total)
    ]
    client.force_login(world.users["reporter_alpha"])
    progress = ProgressWatch()

    with progress:
        response = upload(client, world, csv_file(rows, HEADER).getvalue())
        job = ImportJob.objects.get()
        assert response["Location"] == f"/incidents/import/{job.pk}"
        deadline = time.monotonic() + 600  # long: a loaded machine is slow, never wrong
        while time.monotonic() < deadline:
            status = client.get(f"/incidents/import/{job.pk}.json").json()
            if status["finished"]:
                break
            time.sleep(0.2)

    assert status["state"] == "done", status
    assert status["rows_checked"] == total
    # The status says how far it went; the report is the page's to show.
    assert ImportJob.objects.get().report["incidents_created"] == total
    assert Incident.objects.filter(external_reference__startswith="BIG-").count() == total
    read = [rows for rows, stage in progress.seen if stage == "reading"]
    assert len(set(read)) >= 3, progress.seen
    assert read == sorted(read) and 0 < read[0] < total, progress.seen
    assert [stage for _, stage in progress.seen if stage not in ("", "reading")] == [
        "checking",
        "writing",
        "done",
    ]


class ProgressWatch:
    """Reads the job's progress as another session would, as often as the database
    answers, and keeps each (rows, stage) it saw, in order."""

    def __init__(self):
        self.seen: list[tuple[int, str]] = []
        self.stop = threading.Event()

    def __enter__(self):
        self.thread = threading.Thread(target=self.watch, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()

    def watch(self) -> None:
        reader = _own_connection()
        reader.autocommit = True
        try:
            with reader.cursor() as cursor:
                while not self.stop.is_set():
                    cursor.execute(
                        "SELECT rows_checked, stage FROM incidents_importjob "
                        "WHERE state IN ('running', 'done') ORDER BY id DESC LIMIT 1"
                    )
                    found = cursor.fetchone()
                    if found and (not self.seen or self.seen[-1] != found):
                        self.seen.append(found)
                    time.sleep(0.002)
        finally:
            reader.close()
