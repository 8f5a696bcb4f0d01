"""The import in the browser's place: upload, report page, templates; large files go to a
real Celery worker and the page follows its progress."""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from incidents import importer
from incidents.models import ImportJob, Incident
from tests.personas import build_world
from tests.test_import import CLEAN_ROWS, HEADER, bad, csv_file


@pytest.fixture
def world(db):
    return build_world()


def upload(client, world, content: bytes, name="seizures.csv"):
    alpha = world.records["alpha_draft_L1"].contingent
    return client.post(
        "/incidents/import/",
        {
            "file": SimpleUploadedFile(name, content),
            "contingent": alpha.pk,
        },
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
def test_a_large_file_runs_in_the_celery_worker_with_progress(
    client, celery_worker_process, monkeypatch
):
    world = build_world()
    monkeypatch.setattr(importer, "SYNCHRONOUS_LIMIT_BYTES", 100)  # everything is "large"
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
        for n in range(25_000)
    ]
    client.force_login(world.users["reporter_alpha"])

    response = upload(client, world, csv_file(rows, HEADER).getvalue())

    job = ImportJob.objects.get()
    assert response["Location"] == f"/incidents/import/{job.pk}"
    seen_states = set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = client.get(f"/incidents/import/{job.pk}.json").json()
        seen_states.add(status["state"])
        if status["finished"]:
            break
        time.sleep(0.2)
    assert status["state"] == "done", status
    assert status["rows_checked"] == 25_000
    assert status["report"]["incidents_created"] == 25_000
    assert Incident.objects.filter(external_reference__startswith="BIG-").count() == 25_000
    assert seen_states & {"queued", "running"}, "the page saw the job before it finished"
