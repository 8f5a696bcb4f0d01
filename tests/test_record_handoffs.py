"""Hand-offs between roles say what happened (issue 21): "Record a seizure" in the top bar for
reporters only, the contingent preselected for a reporter of one contingent, and a
confirmation after submitting, verifying, returning and withdrawing."""

import re

from django.contrib.messages import get_messages

from incidents.models import Incident
from organisations.choices import Role
from organisations.models import Contingent, Membership


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_the_top_bar_offers_to_record_a_seizure_to_reporters_only(client, world):
    client.force_login(world.users["reporter_alpha"])
    assert 'href="/incidents/new">Record a seizure</a>' in client.get("/").content.decode()

    client.force_login(world.users["mission_analyst"])
    assert "Record a seizure" not in client.get("/").content.decode()


def test_a_reporter_of_one_contingent_finds_it_chosen_and_of_two_chooses(client, world):
    reporter = world.users["reporter_alpha"]
    client.force_login(reporter)

    page = client.get("/incidents/new").content.decode()
    alpha = world.records["alpha_draft_L1"].contingent
    assert f'<option value="{alpha.pk}" selected>' in page

    bravo = Contingent.objects.get(name="Bravo")
    Membership.objects.create(user=reporter, role=Role.REPORTER, contingent=bravo)
    page = client.get("/incidents/new").content.decode()
    assert f'<option value="{alpha.pk}" selected>' not in page
    assert f'<option value="{bravo.pk}" selected>' not in page


def test_each_workflow_step_says_it_went_through(client, world):
    incident = world.records["alpha_draft_L1"]
    client.force_login(world.users["reporter_alpha"])

    submitted = client.post(f"/incidents/{incident.pk}/submit")
    assert _messages(submitted)[-1] == "Record submitted for verification."

    client.force_login(world.users["verifier"])
    returned = client.post(f"/incidents/{incident.pk}/return", {"comment": "Check the serial."})
    assert _messages(returned)[-1] == "Record returned to its reporter for correction."

    client.force_login(world.users["reporter_alpha"])
    client.post(f"/incidents/{incident.pk}/submit")
    client.force_login(world.users["verifier"])
    verified = client.post(f"/incidents/{incident.pk}/verify")
    assert _messages(verified)[-1] == "Record verified."
    assert Incident.objects.get(pk=incident.pk).state == "verified"


def test_a_refused_step_says_why_and_no_confirmation(client, world):
    incident = world.records["alpha_draft_L1"]
    client.force_login(world.users["reporter_alpha"])
    client.post(f"/incidents/{incident.pk}/submit", follow=True)  # its message shown
    client.force_login(world.users["verifier"])

    response = client.post(f"/incidents/{incident.pk}/return", {"comment": " "})

    assert _messages(response) == ["Say what the reporter should correct."]
    assert Incident.objects.get(pk=incident.pk).state == "submitted"


def test_the_home_page_tells_each_role_what_waits_for_it(client, world):
    incident = world.records["alpha_draft_L1"]
    client.force_login(world.users["reporter_alpha"])
    client.post(f"/incidents/{incident.pk}/submit")
    submitted = Incident.objects.filter(
        state="submitted", mission=incident.mission, withdrawn_at__isnull=True
    ).count()

    client.force_login(world.users["verifier"])
    home = client.get("/").content.decode()
    assert (
        f'href="/incidents/waiting#to-verify">{submitted} records awaiting your verification</a>'
        in home
    )
    listed = client.get("/incidents/?state=submitted").content.decode()
    assert f'href="/incidents/{incident.pk}/"' in listed
    client.post(f"/incidents/{incident.pk}/return", {"comment": "Check the serial."})
    assert f"{submitted - 1} record" in client.get("/").content.decode()

    client.force_login(world.users["reporter_alpha"])
    returned = Incident.objects.filter(
        state="returned", contingent=incident.contingent, withdrawn_at__isnull=True
    ).count()
    home = client.get("/").content.decode()
    assert f'href="/incidents/waiting#returned">{returned} record' in home
    assert "returned to you for correction" in home

    client.force_login(world.users["mission_analyst"])
    home = client.get("/").content.decode()
    assert "returned to you" not in home and "awaiting your verification" not in home


def test_the_queues_list_what_waits_oldest_first_with_the_count_on_every_page(client, world):
    first, second = world.records["alpha_draft_L1"], world.records["alpha_returned_L1"]
    client.force_login(world.users["reporter_alpha"])
    for incident in (first, second):
        client.post(f"/incidents/{incident.pk}/submit")
    waiting = Incident.objects.filter(
        state="submitted", mission=first.mission, withdrawn_at__isnull=True
    ).order_by("updated_at", "id")

    client.force_login(world.users["verifier"])
    page = client.get("/incidents/waiting").content.decode()
    queue = page.split('id="to-verify"')[1].split("</table>")[0]
    listed = [int(pk) for pk in re.findall(r'href="/incidents/(\d+)/"', queue)]
    assert listed == [incident.pk for incident in waiting] and first.pk in listed
    # The top bar of any page counts them.
    assert f">{len(listed)} waiting for you</a>" in client.get("/incidents/").content.decode()

    client.post(f"/incidents/{second.pk}/return", {"comment": "Check the serial."})
    client.force_login(world.users["reporter_alpha"])
    page = client.get("/incidents/waiting").content.decode()
    returned = page.split('id="returned"')[1].split("</table>")[0]
    assert f'href="/incidents/{second.pk}/"' in returned and "Check the serial." in returned

    # Another mission's verifier and an analyst have nothing waiting.
    client.force_login(world.users["mission_analyst"])
    page = client.get("/incidents/waiting").content.decode()
    assert "Nothing awaits your verification." in page and "waiting for you</a>" not in page
