"""Two people editing one record: a save over a record that changed since its editor opened
it is refused, nothing of it written, both versions shown; saving again from that page
replaces the other version knowingly (issue 21)."""

import re
from html import unescape

from incidents.models import Incident
from incidents.selectors import incident_revision
from incidents.services import incident_return, incident_submit
from tests.test_record_edit_location import _edit_data

NO_ITEMS = {
    f"{prefix}-{count}": "0"
    for prefix in ("weapons", "ammunition", "persons")
    for count in ("TOTAL_FORMS", "INITIAL_FORMS")
}


def _opened(incident: Incident, reporter, **changes) -> dict:
    """What the edit page sends when `reporter` opened it now and changed `changes`."""
    return {**_edit_data(incident, reporter, **changes), **NO_ITEMS}


def _rows(page: str) -> dict[str, tuple[str, str]]:
    section = page.split('id="record-changed"', 1)[1].split("</section>", 1)[0]
    return {
        unescape(label): (unescape(yours), unescape(theirs))
        for label, yours, theirs in re.findall(
            r'<th scope="row">(.*?)</th><td>(.*?)</td><td>(.*?)</td>', section
        )
    }


def test_a_save_over_a_record_changed_since_it_was_opened_is_refused_with_both_versions(
    client, world
):
    incident = world.records["alpha_draft_L1"]
    reporter = world.users["reporter_alpha"]
    mine = _opened(incident, reporter, narrative="My reading of the seizure.", actors="")
    # Meanwhile someone else saves another narrative and names the actors.
    theirs = _opened(incident, reporter, narrative="Their reading.", actors="Armed group X")
    client.force_login(reporter)
    assert client.post(f"/incidents/{incident.pk}/edit", theirs).status_code == 302

    refused = client.post(f"/incidents/{incident.pk}/edit", mine)

    assert refused.status_code == 409
    page = refused.content.decode()
    rows = _rows(page)
    assert rows["Narrative"] == ("My reading of the seizure.", "Their reading.")
    assert rows["Actors"] == ("—", "Armed group X")
    assert "Kind" not in rows  # the same in both
    incident.refresh_from_db()
    assert (incident.narrative, incident.actors) == ("Their reading.", "Armed group X")

    # The page keeps my values, against the revision now on record: saving it again
    # replaces theirs, knowingly.
    shown = re.search(r'name="opened_revision" value="([^"]+)"', page)[1]
    assert shown == incident_revision(incident.pk) != mine["opened_revision"]
    assert "My reading of the seizure.</textarea>" in page
    again = client.post(f"/incidents/{incident.pk}/edit", {**mine, "opened_revision": shown})
    assert again.status_code == 302
    incident.refresh_from_db()
    assert (incident.narrative, incident.actors) == ("My reading of the seizure.", "")


def test_a_workflow_step_since_opening_also_refuses_the_save(client, world):
    incident = world.records["alpha_draft_L1"]
    reporter = world.users["reporter_alpha"]
    mine = _opened(incident, reporter, narrative="Edited on a stale page.")
    # Submitted from another tab, and returned by the verifier: editable again, but not
    # the record the page was opened on.
    incident_submit(incident=Incident.objects.get(pk=incident.pk), by=reporter)
    incident_return(
        incident=Incident.objects.get(pk=incident.pk),
        by=world.users["verifier"],
        comment="Add the serial numbers.",
    )

    client.force_login(reporter)
    refused = client.post(f"/incidents/{incident.pk}/edit", mine)

    assert refused.status_code == 409
    assert _rows(refused.content.decode()) == {"Narrative": ("Edited on a stale page.", "—")}
    assert Incident.objects.get(pk=incident.pk).narrative != "Edited on a stale page."


def test_saves_one_after_the_other_from_fresh_pages_go_through(client, world):
    incident = world.records["alpha_draft_L1"]
    reporter = world.users["reporter_alpha"]
    client.force_login(reporter)
    for narrative in ("First.", "Second."):
        incident.refresh_from_db()
        saved = client.post(
            f"/incidents/{incident.pk}/edit", _opened(incident, reporter, narrative=narrative)
        )
        assert saved.status_code == 302
    assert Incident.objects.get(pk=incident.pk).narrative == "Second."


def test_the_conflict_page_speaks_french(client, world):
    incident = world.records["alpha_draft_L1"]
    reporter = world.users["reporter_alpha"]
    mine = _opened(incident, reporter, narrative="Ma version.")
    client.force_login(reporter)
    client.post(f"/incidents/{incident.pk}/edit", _opened(incident, reporter, narrative="Autre."))
    refused = client.post(f"/incidents/{incident.pk}/edit", mine, HTTP_ACCEPT_LANGUAGE="fr")
    assert refused.status_code == 409
    assert "Rien n’a été enregistré" in refused.content.decode()
