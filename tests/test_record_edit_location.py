"""Editing a record without touching its location keeps the point as stored (issue 21: every
edit logged a location change that had not happened, and rounded the point to the six
decimals the form shows); moving it is recorded as a move."""

from django.contrib.gis.geos import Point

from incidents.forms import IncidentForm
from incidents.models import Incident


def _edit_data(incident: Incident, reporter, **changes) -> dict:
    """What the edit page sends back when the reporter changes only `changes`: the form's
    own initial values, the coordinates as it shows them."""
    form = IncidentForm(instance=incident, reporter=reporter)
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None:
            continue
        if isinstance(value, list):
            data[name] = ", ".join(value)
        elif hasattr(value, "pk"):
            data[name] = value.pk
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = form[name].value() if name == "occurred_at" else value
    data["occurred_at"] = incident.occurred_at.strftime("%Y-%m-%dT%H:%M")
    data["location_confirmed"] = "on"
    data.update(changes)
    return data


def test_an_edit_that_leaves_the_location_alone_keeps_the_point_and_logs_no_move(world):
    incident = world.records["alpha_draft_L1"]
    # A point clicked on the map: more decimals than the form shows.
    clicked = Point(18.55812345678, 4.39412345678, srid=4326)
    incident.location = clicked
    incident.save()  # with its history row, as a save from the map page leaves
    reporter = world.users["reporter_alpha"]

    form = IncidentForm(
        _edit_data(incident, reporter, narrative="Corrected narrative."),
        instance=incident,
        reporter=reporter,
    )
    assert form.is_valid(), form.errors
    form.save()

    incident.refresh_from_db()
    assert (incident.location.x, incident.location.y) == (clicked.x, clicked.y)
    assert incident.narrative == "Corrected narrative."
    latest = incident.history.first()
    changed = {change.field for change in latest.diff_against(latest.prev_record).changes}
    assert "narrative" in changed and "location" not in changed


def test_a_moved_point_is_recorded_as_a_move(world):
    incident = world.records["alpha_draft_L1"]
    reporter = world.users["reporter_alpha"]

    form = IncidentForm(
        _edit_data(incident, reporter, coordinates="4.5, 18.6"),
        instance=incident,
        reporter=reporter,
    )
    assert form.is_valid(), form.errors
    form.save()

    incident.refresh_from_db()
    assert (round(incident.location.x, 6), round(incident.location.y, 6)) == (18.6, 4.5)
    latest = incident.history.first()
    assert "location" in {
        change.field for change in latest.diff_against(latest.prev_record).changes
    }
