"""The analyst's dashboard: its figures against hand counts, through the access policy and
the one incident filterset, and its links back to the map.

Over the personas' dashboard_world (tests/personas.py), MINUSCA's analysts read six verified
records of 14 March 2025 (checkpoint seizures, armed conflict, CAF, no weapons, nobody
involved) and the three seizures below; the draft and MONUSCO's seizure stay out of their
figures:

- A, 10 January 2025, cache discovery, criminal, CAF: 3 assault rifles made in RUS and a
  pistol made in CHN, traced to LBY (its illicit origin); 2 female adult victims, 3 male
  adult suspects; linked to gender-based violence.
- B, 20 January 2025, cache discovery, intercommunal, CMR: 2 assault rifles made in CHN and
  a mortar of unknown origin; 1 female child civilian.
- C, 5 February 2025, voluntary surrender, criminal, CAF: 5 craft-produced weapons made in
  CAF, illicitly made as a competent authority found (a domestic origin); 1 male adult
  suspect.
- a draft of Alpha, 12 January 2025, CAF: 100 assault rifles made in RUS; 9 female adult
  victims.
- a seizure of MONUSCO's Charlie, 15 January 2025, COD: 7 assault rifles made in BEL, which
  an investigation found diverted from Uganda's State stocks; 4 male adult suspects.
"""

from datetime import UTC, date, datetime
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from geo.analyses.kept_flows import kept_counts_sql
from geo.analyses.source import IncidentChoice
from geo.models import Region
from incidents.access import incident_visibility
from incidents.choices import Context, IncidentKind, OriginKind, OriginMethod, WorkflowState
from incidents.filtersets import IncidentFilterSet
from incidents.models import Incident, TraceRequest, WeaponItem
from incidents.origins import IllicitOrigin
from reports.dashboard.figures import Count, Flow, MadeIn, dashboard_figures, period_bounds
from tests.analysis_layouts import persons, seizure
from tests.personas import build_world

BANGUI = (18.58, 4.36)
DOUALA = (9.70, 4.05)
GOMA = (29.22, -1.68)


def _weapon(incident: Incident, category: str, quantity: int, made_in: str) -> WeaponItem:
    return WeaponItem.objects.create(
        incident=incident, category=category, quantity=quantity, country_of_manufacture=made_in
    )


def _established(weapon: WeaponItem, method: str, kind: str, country: str) -> None:
    IllicitOrigin.objects.create(
        weapon=weapon,
        method=method,
        kind=kind,
        diversion_country=country,
        established_by="a competent authority",
        established_on=date(2025, 4, 1),
    )


def build_dashboard_world():
    """The personas' world and the seizures of this module's docstring."""
    world = build_world()
    Region.objects.create(code="test-ceeac", name="Central Africa test", member_countries=[
        "CAF", "CMR", "COD"
    ])  # fmt: skip
    a = seizure(
        *BANGUI,
        kind=IncidentKind.CACHE_DISCOVERY,
        context=Context.CRIMINAL,
        occurred_at=datetime(2025, 1, 10, 8, tzinfo=UTC),
        gbv_link=True,
    )
    _weapon(a, "assault_rifle", 3, "RUS")
    pistol = _weapon(a, "revolver_pistol", 1, "CHN")
    TraceRequest.objects.create(
        weapon=pistol,
        addressee="China",
        sent_on=date(2025, 2, 1),
        answered_on=date(2025, 3, 1),
        status="answered",
        diversion_established=True,
        diversion_country="LBY",
    )
    persons(a, female_adult_victim=2, male_adult_suspect=3)

    b = seizure(
        *DOUALA,
        kind=IncidentKind.CACHE_DISCOVERY,
        context=Context.INTERCOMMUNAL,
        occurred_at=datetime(2025, 1, 20, 23, 30, tzinfo=UTC),
        country="CMR",
    )
    _weapon(b, "assault_rifle", 2, "CHN")
    _weapon(b, "mortar", 1, "")
    persons(b, female_child_civilian=1)

    c = seizure(
        *BANGUI,
        kind=IncidentKind.VOLUNTARY_SURRENDER,
        context=Context.CRIMINAL,
        occurred_at=datetime(2025, 2, 5, tzinfo=UTC),
    )
    craft = _weapon(c, "craft_produced", 5, "CAF")
    _established(
        craft, OriginMethod.AUTHORITY_FINDING, OriginKind.ILLICIT_MANUFACTURE, country="CAF"
    )
    persons(c, male_adult_suspect=1)

    draft = seizure(
        *BANGUI,
        state=WorkflowState.DRAFT,
        context=Context.CRIMINAL,
        occurred_at=datetime(2025, 1, 12, tzinfo=UTC),
    )
    _weapon(draft, "assault_rifle", 100, "RUS")
    persons(draft, female_adult_victim=9)

    monusco = seizure(
        *GOMA,
        contingent_name="Charlie",
        context=Context.CRIMINAL,
        occurred_at=datetime(2025, 1, 15, tzinfo=UTC),
        country="COD",
    )
    belgian = _weapon(monusco, "assault_rifle", 7, "BEL")
    _established(belgian, OriginMethod.INVESTIGATION, OriginKind.STATE_STOCKS, country="UGA")
    persons(monusco, male_adult_suspect=4)
    return world


def _both_ways(dashboard_world, persona: str, **filters):
    """The figures as the page computes them (where made from the counts the database
    keeps, where they answer the filter), and from the items; and whether the kept counts
    answered."""
    visibility = incident_visibility(dashboard_world.users[persona])
    filterset = IncidentFilterSet(filters, queryset=Incident.objects.visible_with(visibility))
    assert filterset.is_valid(), filterset.errors
    choice = IncidentChoice(visibility, filterset.form.cleaned_data)
    from_items = dashboard_figures(incidents=filterset.qs, with_gender=True)
    as_shown = dashboard_figures(incidents=filterset.qs, choice=choice, with_gender=True)
    return as_shown, from_items, kept_counts_sql(choice) is not None


def _figures(dashboard_world, persona: str, **filters):
    as_shown, from_items, _kept = _both_ways(dashboard_world, persona, **filters)
    assert as_shown == from_items
    return as_shown


def _table(page: str, chart_id: str) -> dict[str, str]:
    """The rows of one chart's table: label → value."""
    section = page.split(f'<section class="chart-card" id="{chart_id}"', 1)[1]
    section = section.split("</section>", 1)[0]
    body = section.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = {}
    for row in body.split("<tr>")[1:]:
        label = row.split("</a>", 1)[0].rsplit(">", 1)[1]
        value = row.split('<td class="number">', 1)[1].split("</td>", 1)[0]
        rows[unescape(label)] = value
    return rows


def _links(page: str, chart_id: str) -> dict[str, dict[str, list[str]]]:
    """The links of one chart's table: label → the query of its URL."""
    section = page.split(f'<section class="chart-card" id="{chart_id}"', 1)[1]
    section = section.split("</section>", 1)[0]
    links = {}
    for row in section.split('<th scope="row"><a href="')[1:]:
        url, rest = row.split('"', 1)
        label = rest.split(">", 1)[1].split("</a>", 1)[0]
        parts = urlsplit(unescape(url))
        assert parts.path == "/map/"
        links[unescape(label)] = parse_qs(parts.query)
    return links


# --- the figures ------------------------------------------------------------------------


def test_every_figure_equals_the_hand_count_for_the_missions_analyst(dashboard_world):
    figures = _figures(dashboard_world, "wps_analyst")

    assert (figures.incidents, figures.weapons, figures.weapon_records) == (9, 12, 5)
    assert figures.over_time == [
        Count("2025-01-01", 2),
        Count("2025-02-01", 1),
        Count("2025-03-01", 6),
    ]
    assert figures.by_kind == [
        Count("checkpoint_seizure", 6),
        Count("cache_discovery", 2),
        Count("voluntary_surrender", 1),
    ]
    assert figures.by_context == [
        Count("armed_conflict", 6),
        Count("criminal", 2),
        Count("intercommunal", 1),
    ]
    assert figures.by_country == [Count("CAF", 8), Count("CMR", 1)]
    assert figures.by_region == [Count("test-ceeac", 9), Count("test-caf", 8)]
    assert sorted(figures.by_category, key=lambda count: count.key) == [
        Count("assault_rifle", 5),
        Count("craft_produced", 5),
        Count("mortar", 1),
        Count("revolver_pistol", 1),
    ]
    # Where made counts every weapon, the pistol traced to Libya too: no movement.
    assert figures.top_made_in == [MadeIn("CAF", 5), MadeIn("CHN", 3), MadeIn("RUS", 3)]
    assert figures.items_made_in_unknown == 1
    # Illicit origins established: the pistol's (Libya) and the craft weapons' (CAF, domestic,
    # counted, not listed); the weapons made in Russia or China have none.
    assert figures.established_items == 6
    assert figures.top_flows == [Flow("LBY", "CAF", 1, 1)]

    gender = figures.gender
    assert gender.persons == 7
    assert gender.by_sex == [Count("male", 4), Count("female", 3)]
    assert gender.by_age_group == [Count("adult", 6), Count("child", 1)]
    assert gender.by_role == [Count("suspect", 4), Count("victim", 2), Count("civilian", 1)]
    assert gender.by_role_and_sex == {
        ("suspect", "male"): 4,
        ("victim", "female"): 2,
        ("civilian", "female"): 1,
    }
    assert gender.gbv_linked_incidents == 1


def test_weeks_start_on_monday_in_utc(dashboard_world):
    from incidents.filtersets import IncidentFilterSet

    incidents = IncidentFilterSet(
        {}, queryset=Incident.objects.visible_to(dashboard_world.users["mission_analyst"])
    ).qs
    figures = dashboard_figures(incidents=incidents, period="week", with_gender=False)
    # Weeks without incidents between the first and the last are zeros.
    assert figures.over_time == [
        Count("2025-01-06", 1),
        Count("2025-01-13", 0),
        Count("2025-01-20", 1),
        Count("2025-01-27", 0),
        Count("2025-02-03", 1),
        Count("2025-02-10", 0),
        Count("2025-02-17", 0),
        Count("2025-02-24", 0),
        Count("2025-03-03", 0),
        Count("2025-03-10", 6),
    ]


def test_the_filter_changes_the_figures(dashboard_world):
    figures = _figures(dashboard_world, "wps_analyst", kind=["cache_discovery"])
    assert (figures.incidents, figures.weapons) == (2, 7)
    assert figures.by_country == [Count("CAF", 1), Count("CMR", 1)]
    assert figures.gender.persons == 6

    # A category filter chooses the incidents with such a weapon; the other weapons of
    # those incidents still count in their own categories.
    figures = _figures(dashboard_world, "wps_analyst", category=["craft_produced"])
    assert (figures.incidents, figures.weapons) == (1, 5)
    assert figures.top_flows == []


@pytest.mark.parametrize(
    ("filters", "kept"),
    [
        ({}, True),
        ({"kind": ["cache_discovery", "checkpoint_seizure"]}, True),
        ({"context": ["criminal"]}, True),
        ({"country": "CMR"}, True),
        ({"region": "ECCAS"}, True),
        ({"occurred_after": "2025-01-01", "occurred_before": "2025-03-31T23:59:59.999999"}, True),
        # Not answered by the kept counts: read from the items, the same figures.
        ({"occurred_after": "2025-01-15"}, False),
        ({"category": ["craft_produced"]}, False),
        ({"q": "cache"}, False),
    ],
)
@pytest.mark.parametrize("persona", ["admin", "mission_analyst", "wps_analyst", "verifier"])
def test_where_made_from_the_kept_counts_equals_the_count_from_the_items(
    dashboard_world, persona, filters, kept
):
    as_shown, from_items, answered = _both_ways(dashboard_world, persona, **filters)
    assert answered == kept
    assert as_shown == from_items
    if persona != "verifier" and not filters:
        assert as_shown.weapons > 0 and as_shown.top_made_in  # not a comparison of zeros


def test_an_empty_choice_gives_zeros_not_an_error(dashboard_world):
    figures = _figures(dashboard_world, "wps_analyst", country="FRA")
    assert (figures.incidents, figures.weapons, figures.gender.persons) == (0, 0, 0)
    assert figures.over_time == figures.by_category == figures.top_flows == []
    figures = _figures(dashboard_world, "nobody")
    assert figures.incidents == 0


def test_another_missions_analyst_sees_none_of_these_incidents(dashboard_world):
    figures = _figures(dashboard_world, "other_mission_analyst")
    # MONUSCO's two verified persona records and its seizure; nothing of MINUSCA.
    assert figures.incidents == 3
    assert figures.by_country == [Count("COD", 3)]
    assert figures.by_category == [Count("assault_rifle", 7)]
    assert figures.top_flows == [Flow("UGA", "COD", 7, 1)]


def test_the_draft_counts_only_for_its_reporter(dashboard_world):
    figures = _figures(dashboard_world, "reporter_alpha")
    # Alpha's drafts, submitted and returned records are its reporter's to see.
    assert figures.weapons == 112
    assert _figures(dashboard_world, "verifier").weapons == 12


# --- the page -----------------------------------------------------------------------------


def test_the_page_shows_each_figure_in_its_table(client, dashboard_world, settings):
    # The hand counts, as counted: small-cell suppression off (threshold 1). The counts of
    # people suppressed are tested in tests/test_suppression_everywhere.py.
    settings.SMALL_CELL_THRESHOLD = 1
    client.force_login(dashboard_world.users["wps_analyst"])
    response = client.get("/dashboard/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="total-incidents">9<' in page and 'id="total-weapons">12<' in page
    assert _table(page, "over-time") == {"2025-01": "2", "2025-02": "1", "2025-03": "6"}
    assert _table(page, "by-category") == {
        "Assault rifles": "5",
        "Craft-produced weapons": "5",
        "Mortars under 100 mm": "1",
        "Revolvers and self-loading pistols": "1",
    }
    assert _table(page, "by-kind")["Cache discovery"] == "2"
    assert _table(page, "by-context") == {
        "Armed conflict": "6",
        "Criminal / gang": "2",
        "Intercommunal": "1",
    }
    assert _table(page, "by-country") == {
        "Central African Republic (CAF)": "8",
        "Cameroon (CMR)": "1",
    }
    assert _table(page, "by-region") == {"Central Africa test": "9", "CAF only": "8"}
    assert _table(page, "top-made-in") == {
        "Central African Republic (CAF)": "5",
        "China (CHN)": "3",
        "Russian Federation (RUS)": "3",
    }
    assert _table(page, "top-flows") == {"Libya (LBY) → Central African Republic (CAF)": "1"}
    assert _table(page, "persons-by-sex") == {"Male": "4", "Female": "3"}
    assert _table(page, "persons-by-age") == {"Adult": "6", "Child (under 18)": "1"}
    assert _table(page, "persons-by-role") == {"Suspect": "4", "Victim": "2", "Civilian": "1"}
    assert 'id="total-gbv">1<' in page
    # Each chart's figures for Chart.js, in JSON, and no inline script code.
    assert 'id="chart-by-category-data" type="application/json"' in page
    assert "vendor/chart.js/chart.umd.min.js" in page and "js/dashboard.js" in page
    for script in page.split("<script")[1:]:
        opening, body = script.split(">", 1)
        assert "application/json" in opening or body.startswith("</script>")
    assert " onclick=" not in page


def test_the_page_counts_what_the_filter_chooses(client, dashboard_world):
    client.force_login(dashboard_world.users["mission_analyst"])
    page = client.get("/dashboard/?context=criminal&country=CAF").content.decode()
    assert 'id="total-incidents">2<' in page
    assert _table(page, "by-category") == {
        "Craft-produced weapons": "5",
        "Assault rifles": "3",
        "Revolvers and self-loading pistols": "1",
    }
    # The form keeps the filter.
    assert 'value="CAF"' in page


def test_a_reader_without_the_gender_permission_gets_no_gender_figures(client, dashboard_world):
    client.force_login(dashboard_world.users["mission_analyst"])
    page = client.get("/dashboard/").content.decode()
    assert 'id="total-incidents">9<' in page
    for absent in ("persons-by-sex", "persons-by-role", "total-persons", "total-gbv"):
        assert absent not in page
    assert "Gender-disaggregated" not in page


def test_an_analyst_of_another_mission_sees_none_of_these_incidents_on_the_page(
    client, dashboard_world
):
    client.force_login(dashboard_world.users["other_mission_analyst"])
    page = client.get("/dashboard/?mission=MINUSCA").content.decode()
    assert 'id="total-incidents">0<' in page and 'id="total-weapons">0<' in page
    page = client.get("/dashboard/").content.decode()
    assert _table(page, "by-country") == {"Democratic Republic of the Congo (COD)": "3"}
    assert "Central African Republic" not in page


def test_a_french_page_names_countries_in_french(client, dashboard_world):
    client.force_login(dashboard_world.users["other_mission_analyst"])
    page = client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert _table(page, "by-country") == {"République démocratique du Congo (COD)": "3"}


def test_chart_links_carry_the_filter_to_the_map(client, dashboard_world):
    client.force_login(dashboard_world.users["wps_analyst"])
    page = client.get(
        "/dashboard/?context=criminal&category=assault_rifle&period=week&ordering=kind&q=&withdrawn=unknown"
    ).content.decode()
    page_month = client.get(
        "/dashboard/?context=criminal&occurred_after=2025-01-05T00:00:00Z"
    ).content.decode()

    category = _links(page, "by-category")
    # The category clicked replaces the one filtered on; the dashboard's own period, the
    # ordering and empty fields (as a submitted form sends them) stay off.
    assert category["Revolvers and self-loading pistols"] == {
        "context": ["criminal"],
        "category": ["revolver_pistol"],
    }
    assert _links(page, "by-kind")["Cache discovery"] == {
        "context": ["criminal"],
        "category": ["assault_rifle"],
        "kind": ["cache_discovery"],
    }
    assert _links(page, "by-country")["Central African Republic (CAF)"]["country"] == ["CAF"]
    assert _links(page, "top-flows")["Libya (LBY) → Central African Republic (CAF)"] == {
        "context": ["criminal"],
        "category": ["assault_rifle"],
        "country": ["CAF"],
    }

    # A period: its first and last instants, within the dates already filtered on.
    january = _links(page_month, "over-time")["2025-01"]
    assert january == {
        "context": ["criminal"],
        "occurred_after": ["2025-01-05T00:00:00Z"],
        "occurred_before": ["2025-01-31T23:59:59.999999Z"],
    }
    assert _links(page_month, "by-region")["Central Africa test"] == {
        "context": ["criminal"],
        "occurred_after": ["2025-01-05T00:00:00Z"],
        "region": ["test-ceeac"],
    }
    week = _links(page, "over-time")["2025-01-06"]
    assert (week["occurred_after"], week["occurred_before"]) == (
        ["2025-01-06T00:00:00Z"],
        ["2025-01-12T23:59:59.999999Z"],
    )
    assert period_bounds(date(2024, 12, 1), "month") == (
        datetime(2024, 12, 1, tzinfo=UTC),
        datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    )
    # The map of the whole filter, as the map reads it.
    assert 'href="/map/?occurred_after=2025-01-05T00%3A00%3A00Z&amp;context=criminal"' in (
        page_month
    )


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("occurred_after=yesterday", "occurred_after"),
        ("kind=picnic", "kind"),
        ("bbox=1,2,3", "bbox"),
        ("period=decade", "period"),
        ("occurred_after=2025-03-01T00:00Z&occurred_before=2025-01-01T00:00Z", "occurred_after"),
    ],
)
def test_a_filter_that_cannot_be_read_is_refused_naming_the_field(
    client, dashboard_world, query, field
):
    client.force_login(dashboard_world.users["mission_analyst"])
    response = client.get(f"/dashboard/?{query}")
    assert response.status_code == 400
    page = response.content.decode()
    assert f"<strong>{field}</strong>" in page
    assert "total-incidents" not in page and "chart-card" not in page


def test_anonymous_readers_are_sent_to_sign_in_and_the_unaffiliated_refused(
    client, dashboard_world
):
    response = client.get("/dashboard/?kind=cache_discovery")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/dashboard/")
    client.force_login(dashboard_world.users["nobody"])
    assert client.get("/dashboard/").status_code == 403


def test_the_page_speaks_french(client, dashboard_world):
    client.force_login(dashboard_world.users["mission_analyst"])
    page = client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert '<html lang="fr">' in page
    assert _table(page, "by-context")["Conflit armé"] == "6"


def test_the_navigation_links_to_the_dashboard(client, dashboard_world):
    client.force_login(dashboard_world.users["mission_analyst"])
    assert 'href="/dashboard/"' in client.get("/incidents/").content.decode()


def test_the_page_reads_as_many_statements_whatever_the_number_of_incidents(
    client, dashboard_world
):
    client.force_login(dashboard_world.users["wps_analyst"])
    client.get("/dashboard/")  # the session and the reader's first reads
    with CaptureQueriesContext(connection) as before:
        client.get("/dashboard/")
    for _ in range(20):
        seizure(*BANGUI, country="")
    with CaptureQueriesContext(connection) as after:
        page = client.get("/dashboard/").content.decode()
    assert len(after.captured_queries) == len(before.captured_queries)
    # The figures are three statements: incidents, their weapons, the people involved.
    figures = [query for query in after.captured_queries if "GROUPING SETS" in query["sql"]]
    assert len(figures) == 3
    # Incidents without a country count as unknown, and link to the map of the whole filter.
    assert _table(page, "by-country")["Unknown"] == "20"
    assert _links(page, "by-country")["Unknown"] == {}


def test_registry_hits_are_counted_per_state_over_the_seizures_the_reader_may_see(client, world):
    from incidents.registry.choices import HitState
    from tests.test_map_hits import _entry, _hit

    records = world.records
    minusca = _entry(records["alpha_verified_L3"].mission)
    monusco = _entry(records["charlie_verified_L5"].mission)
    _hit(records["alpha_verified_L3"], minusca, HitState.NEW)
    _hit(records["alpha_verified_L3"], minusca, HitState.CONFIRMED)
    _hit(records["bravo_verified_L4"], minusca, HitState.DISMISSED)
    _hit(records["charlie_verified_L5"], monusco, HitState.NEW)

    def counts(persona: str, query: str = "") -> dict[str, str]:
        client.force_login(world.users[persona])
        response = client.get(f"/dashboard/?{query}")
        assert response.status_code == 200
        return _table(response.content.decode(), "registry-hits")

    # MONUSCO's seizure is not the MINUSCA analyst's; its hit is not counted.
    assert counts("mission_analyst") == {"new": "1", "confirmed": "1", "dismissed": "1"}
    assert counts("other_mission_analyst") == {"new": "1", "confirmed": "0", "dismissed": "0"}
    assert counts("admin") == {
        "new": "2",
        "confirmed": "1",
        "dismissed": "1",
    }
    # The incident filters narrow the seizures counted.
    assert counts("admin", "mission=MONUSCO") == {"new": "1", "confirmed": "0", "dismissed": "0"}
    bravo = records["bravo_verified_L4"].contingent_id
    assert counts("mission_analyst", f"contingent={bravo}") == {
        "new": "0",
        "confirmed": "0",
        "dismissed": "1",
    }
    # The rows link to the hits page of their state; nothing of the entries is printed.
    client.force_login(world.users["mission_analyst"])
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/dashboard/").content.decode()
    assert 'href="/incidents/hits/?state=confirmed"' in page
    assert "MINUSCA JMAC" not in page and "jmac@example.org" not in page
    # One statement counts them.
    assert len([q for q in queries.captured_queries if "incidents_weaponhit" in q["sql"]]) == 1
