"""Controlled vocabularies of the records: stable codes, translatable labels.

Codes are stored and exchanged (API, exports); labels are what people read, in their
language. Never change a code; add a new one.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class IncidentKind(models.TextChoices):
    CHECKPOINT_SEIZURE = "checkpoint_seizure", _("Seizure at checkpoint or border")
    CORDON_AND_SEARCH = "cordon_search", _("Cordon-and-search or raid")
    CACHE_DISCOVERY = "cache_discovery", _("Cache discovery")
    VOLUNTARY_SURRENDER = "voluntary_surrender", _("Voluntary surrender / DDR handover")
    RECOVERY_AFTER_CLASH = "recovery_after_clash", _("Recovery after armed clash")
    ATTACK_ON_PEACEKEEPERS = "attack_on_peacekeepers", _("Attack on peacekeepers")
    LOSS_OR_THEFT = "loss_or_theft", _("Loss or theft from peacekeepers or national stockpiles")
    ARMED_VIOLENCE = "armed_violence", _("Armed-violence incident")


class Context(models.TextChoices):
    """The context of the incident, aligned with the contexts of UNODC's Illicit Arms Flows
    Questionnaire (IAFQ, criminal context of seizures) and of SDG indicator 16.4.2's
    metadata: armed conflict and, outside it, the forms of armed violence that the Small
    Arms Survey and UNODC count apart. CONFLICT_CONTEXTS below says which are conflict."""

    ARMED_CONFLICT = "armed_conflict", _("Armed conflict")
    TERRORISM = "terrorism", _("Terrorism or violent extremism")
    POLITICAL = "political", _("Political or electoral violence")
    INTERCOMMUNAL = "intercommunal", _("Intercommunal")
    PASTORAL = "pastoral", _("Pastoral or transhumance conflict")
    RESOURCES = "resources", _("Resource-related violence (mining, land)")
    POACHING = "poaching", _("Poaching or wildlife crime")
    CRIMINAL = "criminal", _("Criminal / gang")
    DOMESTIC = "domestic", _("Domestic or intimate-partner violence")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Unknown")


# Contexts of armed conflict (the rest is armed violence outside conflict, as the IAFQ and
# the Secretary-General's small-arms reports tell them apart).
CONFLICT_CONTEXTS = (Context.ARMED_CONFLICT, Context.TERRORISM)


class LocationPrecision(models.TextChoices):
    EXACT = "exact", _("Exact")
    ABOUT_1_KM = "1km", _("Within about 1 km")
    ABOUT_10_KM = "10km", _("Within about 10 km")
    ADMIN_AREA = "admin_area", _("Admin area only")


PRECISION_ORDER = [
    LocationPrecision.EXACT,
    LocationPrecision.ABOUT_1_KM,
    LocationPrecision.ABOUT_10_KM,
    LocationPrecision.ADMIN_AREA,
]


# The largest uncertainty (metres) each precision admits; beyond the last, admin area only.
PRECISION_LIMITS = [
    (100, LocationPrecision.EXACT),
    (1_500, LocationPrecision.ABOUT_1_KM),
    (15_000, LocationPrecision.ABOUT_10_KM),
]


def precision_of(*, uncertainty_m: float) -> str:
    """The location precision that an uncertainty in metres amounts to."""
    for limit, precision in PRECISION_LIMITS:
        if uncertainty_m <= limit:
            return precision
    return LocationPrecision.ADMIN_AREA


def coarser_precision(first: str, second: str) -> str:
    return max(first, second, key=PRECISION_ORDER.index)


class WorkflowState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    RETURNED = "returned", _("Returned for correction")
    VERIFIED = "verified", _("Verified")


class WeaponCategory(models.TextChoices):
    """Types of arm: the small arms and light weapons of the International Tracing
    Instrument (ITI §4: small arms (a), light weapons (b)) as the UN Register's SALW form
    lists them, with shotguns, parts and components, and other arms. How a weapon was made
    is apart (ManufactureMode); `craft_produced` is kept for records made before that field
    (a craft-produced arm of a known type takes its type and the craft way of making)."""

    REVOLVER_PISTOL = "revolver_pistol", _("Revolvers and self-loading pistols")
    RIFLE_CARBINE = "rifle_carbine", _("Rifles and carbines")
    ASSAULT_RIFLE = "assault_rifle", _("Assault rifles")
    SUB_MACHINE_GUN = "smg", _("Sub-machine guns")
    LIGHT_MACHINE_GUN = "lmg", _("Light machine guns")
    HEAVY_MACHINE_GUN = "hmg", _("Heavy machine guns")
    GRENADE_LAUNCHER = "grenade_launcher", _("Grenade launchers")
    PORTABLE_ANTI_TANK_GUN = "anti_tank_gun", _("Portable anti-tank guns")
    RECOILLESS_RIFLE = "recoilless_rifle", _("Recoilless rifles")
    ANTI_TANK_LAUNCHER = "anti_tank_launcher", _("Portable anti-tank missile and rocket launchers")
    MANPADS = "manpads", _("Portable anti-aircraft missile launchers (MANPADS)")
    MORTAR = "mortar", _("Mortars under 100 mm")
    PORTABLE_ANTI_AIRCRAFT_GUN = "anti_aircraft_gun", _("Portable anti-aircraft guns")
    SHOTGUN = "shotgun", _("Shotguns")
    PART_COMPONENT = "part_component", _("Parts and components")
    OTHER = "other", _("Other arms")
    CRAFT_PRODUCED = "craft_produced", _("Craft-produced weapons")


class ManufactureMode(models.TextChoices):
    """How a weapon was made, apart from what type of arm it is (the ITI's definition of a
    small arm covers craft-produced and converted weapons; the Small Arms Survey counts
    them apart): a craft-produced pistol is a pistol made by craft."""

    FACTORY = "factory", _("Factory-made")
    CRAFT = "craft", _("Craft-produced")
    CONVERTED = "converted", _("Converted (from a blank-firing, alarm or replica weapon)")
    REACTIVATED = "reactivated", _("Reactivated after deactivation")
    PRINTED_3D = "3d_printed", _("3D-printed")
    UNKNOWN = "unknown", _("Unknown")


class Recovery(models.TextChoices):
    """Whether a weapon came under control or was only seen (used in an attack, carried by
    an armed group): the IAFQ and SDG 16.4.2 count recovered arms only (seized, found,
    surrendered)."""

    RECOVERED = "recovered", _("Recovered")
    OBSERVED = "observed", _("Observed only, not recovered")


class WeaponComponent(models.TextChoices):
    """The parts whose own serial numbers a weapon's record keeps. ISACS 05.30 (marking at
    manufacture) puts the unique mark on the frame or receiver and recommends marking the
    barrel, the slide or cylinder and the bolt as well; the Firearms Protocol (art. 3(b))
    lists them as the parts and components of a firearm."""

    FRAME_RECEIVER = "frame", _("Frame or receiver")
    BARREL = "barrel", _("Barrel")
    SLIDE = "slide", _("Slide")
    CYLINDER = "cylinder", _("Cylinder")
    BOLT = "bolt", _("Bolt or breech block")
    OTHER = "other", _("Other part")


class MarkLocation(models.TextChoices):
    """Which of the marks of ISACS 05.30 (manufacturer's, serial, import, State ownership)
    was altered."""

    SERIAL_NUMBER = "serial", _("Serial number")
    MANUFACTURER = "manufacturer", _("Manufacturer's mark")
    IMPORT = "import", _("Import mark")
    STATE_OWNERSHIP = "state", _("State-ownership mark")
    SEVERAL = "several", _("Several marks")


class PhotoSubject(models.TextChoices):
    """What a photo shows, so that the photos of a mark can be found and sent with a trace
    request (ISACS 05.31 asks for photographs of the weapon and of its markings; the marks
    are those of ISACS 05.30)."""

    WHOLE_ITEM = "whole", _("The whole weapon")
    SERIAL_NUMBER = "serial", _("Serial number")
    MANUFACTURER = "manufacturer", _("Manufacturer's mark")
    IMPORT = "import", _("Import mark")
    STATE_OWNERSHIP = "state", _("State-ownership mark")
    COMPONENT_SERIALS = "components", _("Serial numbers of components")
    ALTERED_MARK = "altered", _("Altered or obliterated mark")
    SCENE = "scene", _("The place or the scene")
    OTHER = "other", _("Other")


class AlterationMethod(models.TextChoices):
    GROUND = "ground", _("Ground or filed off")
    DRILLED = "drilled", _("Drilled")
    PUNCHED = "punched", _("Punched or hammered")
    OVERSTAMPED = "overstamped", _("Over-stamped or re-marked")
    UNKNOWN = "unknown", _("Unknown")


class TraceStatus(models.TextChoices):
    """Where a trace request stands, as ISACS 05.31 (international tracing operations: the
    request, its acknowledgement, the response or its refusal) and the International Tracing
    Instrument (ITI, A/60/88: paragraph 17 on the request, and the paragraphs after it on the
    answer, its acknowledgement, and its delay, restriction or refusal) describe the exchange.
    Clauses mapped in docs/standards/isacs-05-31-tracing.md.

    No "draft": the platform records a request once it has gone (`sent_on` is required, and
    the flow triggers of migrations 0008/0012 order an item's traces by it). "answered" is
    kept as the code of a full trace (the point of diversion established, or the weapon's
    history followed to its last legal holder); a negative answer is never "answered" but
    "no_record" or "refused" (with a failure reason), and "closed_untraced" closes a trace that
    no answer completed.
    """

    SENT = "sent", _("Sent")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged by the addressee")
    ANSWERED = "answered", _("Answered: traced")
    PARTIALLY_TRACED = "partially_traced", _("Partially traced")
    NO_RECORD = "no_record", _("Answered: no record of the weapon")
    REFUSED = "refused", _("Refused")
    FORWARDED = "forwarded", _("Forwarded to another State or manufacturer")
    CLOSED_UNTRACED = "closed_untraced", _("Closed, not traced")


# Still waiting for an answer: reminders are sent and the deadline watched.
TRACE_PENDING = (TraceStatus.SENT, TraceStatus.ACKNOWLEDGED, TraceStatus.FORWARDED)
# The outcomes an answer records (trace_request_answer).
TRACE_OUTCOMES = (
    TraceStatus.ANSWERED,
    TraceStatus.PARTIALLY_TRACED,
    TraceStatus.NO_RECORD,
    TraceStatus.REFUSED,
    TraceStatus.FORWARDED,
    TraceStatus.CLOSED_UNTRACED,
)
# Negative outcomes: each carries a failure reason.
TRACE_NEGATIVE = (TraceStatus.NO_RECORD, TraceStatus.REFUSED, TraceStatus.CLOSED_UNTRACED)
# The outcomes that may establish the point of diversion.
TRACE_POSITIVE = (TraceStatus.ANSWERED, TraceStatus.PARTIALLY_TRACED)


class TraceFailureReason(models.TextChoices):
    """Why a trace failed (ISACS 05.31 on unmarked and altered weapons and on responses; the
    ITI on answers delayed, restricted or refused, which the requested State explains)."""

    NO_RECORD = "no_record", _("No record of the weapon")
    REFUSED = "refused", _("Request refused")
    NOT_MARKED = "not_marked", _("Weapon not marked, or not uniquely")
    MARKING_ILLEGIBLE = "marking_illegible", _("Marking illegible or altered")
    OTHER = "other", _("Other reason")


class TraceConfidentiality(models.TextChoices):
    """How the requesting State asks the information to be handled (the ITI's provisions on
    the confidentiality of tracing information; ISACS 05.31 on the exchange of information)."""

    UNRESTRICTED = "unrestricted", _("No restriction")
    LAW_ENFORCEMENT = "law_enforcement", _("Law-enforcement use only")
    CONFIDENTIAL = "confidential", _("Confidential")
    STRICTLY_CONFIDENTIAL = "strictly_confidential", _("Strictly confidential")


class TraceUrgency(models.TextChoices):
    """Routine or urgent request (ISACS 05.31: an urgent request asks for a prompt answer)."""

    ROUTINE = "routine", _("Routine")
    URGENT = "urgent", _("Urgent")


class DatePrecision(models.TextChoices):
    """How exactly the date is known, as in conflict-event datasets (UCDP's date_prec)."""

    DAY = "day", _("Exact day")
    WEEK = "week", _("Within a week")
    MONTH = "month", _("Within a month")
    YEAR = "year", _("Within a year")


class ActorType(models.TextChoices):
    ARMED_GROUP = "armed_group", _("Armed group")
    CRIMINAL_NETWORK = "criminal_network", _("Criminal network or gang")
    SELF_DEFENCE = "self_defence", _("Self-defence or community militia")
    STATE_FORCES = "state_forces", _("State security forces")
    CIVILIANS = "civilians", _("Civilians")
    UNKNOWN = "unknown", _("Unknown")


class SourceReliability(models.TextChoices):
    """The source grading of the NATO/Admiralty system (STANAG 2511)."""

    A = "A", _("A – completely reliable")
    B = "B", _("B – usually reliable")
    C = "C", _("C – fairly reliable")
    D = "D", _("D – not usually reliable")
    E = "E", _("E – unreliable")
    F = "F", _("F – reliability cannot be judged")


class InformationCredibility(models.TextChoices):
    """The information grading of the NATO/Admiralty system (STANAG 2511), the other half
    of SourceReliability: how far the information itself is confirmed."""

    CONFIRMED = "1", _("1 – confirmed by other sources")
    PROBABLY_TRUE = "2", _("2 – probably true")
    POSSIBLY_TRUE = "3", _("3 – possibly true")
    DOUBTFUL = "4", _("4 – doubtful")
    IMPROBABLE = "5", _("5 – improbable")
    CANNOT_BE_JUDGED = "6", _("6 – truth cannot be judged")


class SourceType(models.TextChoices):
    """How the reporting unit knows what it records: the IAFQ and the Small Arms Survey
    count weapons physically inspected apart from those only reported."""

    PHYSICALLY_INSPECTED = "inspected", _("Physically inspected by the reporting unit")
    REPORTED_BY_AUTHORITY = "authority", _("Reported by a national authority")
    REPORTED_BY_WITNESS = "witness", _("Reported by a witness or community")
    DOCUMENT = "document", _("Document or record")
    OPEN_SOURCE = "open_source", _("Open source (media, social media)")
    UNKNOWN = "unknown", _("Unknown")


class GbvType(models.TextChoices):
    """The kind of gender-based violence the incident is linked to (IASC GBV guidelines'
    core types, as the GBVIMS classifies them)."""

    RAPE = "rape", _("Rape")
    SEXUAL_ASSAULT = "sexual_assault", _("Sexual assault")
    PHYSICAL_ASSAULT = "physical_assault", _("Physical assault")
    FORCED_MARRIAGE = "forced_marriage", _("Forced marriage")
    DENIAL_OF_RESOURCES = "denial", _("Denial of resources, opportunities or services")
    PSYCHOLOGICAL = "psychological", _("Psychological or emotional abuse, threat with a weapon")
    UNKNOWN = "unknown", _("Unknown")


class PersonRole(models.TextChoices):
    SUSPECT = "suspect", _("Suspect")
    VICTIM = "victim", _("Victim")
    CIVILIAN = "civilian", _("Civilian")
    PEACEKEEPER = "peacekeeper", _("Peacekeeper")
    # Who hands weapons over in a voluntary surrender or DDR collection.
    SURRENDERING = "surrendering", _("Person surrendering weapons")


class SeizureJustification(models.TextChoices):
    """The legal justification of a seizure, as the UNODC Illicit Arms Flows Questionnaire
    (IAFQ) asks it of seized arms, with the breach of a Security Council arms embargo that
    peace operations monitor. Found and surrendered arms were not seized: they say so."""

    ILLICIT_TRAFFICKING = "trafficking", _("Illicit trafficking")
    ILLICIT_POSSESSION = "possession", _("Illicit possession or carrying")
    ILLICIT_MANUFACTURE = "manufacture", _("Illicit manufacture")
    USED_IN_CRIME = "used_in_crime", _("Used or intended for use in a crime")
    ARMS_EMBARGO = "embargo", _("Breach of an arms embargo or sanctions")
    ADMINISTRATIVE = "administrative", _("Administrative breach (licence, registration)")
    NOT_SEIZED = "not_seized", _("Not a seizure (found or surrendered)")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Unknown")


class TransportMode(models.TextChoices):
    """How the arms were being moved when seized: the IAFQ's significant seizures and the
    routes of trafficking name the means of transport."""

    ROAD = "road", _("Road vehicle")
    ON_FOOT = "on_foot", _("On foot")
    ANIMAL = "animal", _("Pack animal")
    BOAT = "boat", _("Boat")
    AIRCRAFT = "aircraft", _("Aircraft")
    RAIL = "rail", _("Rail")
    POSTAL = "postal", _("Postal or courier service")
    NOT_MOVING = "not_moving", _("Not being moved (cache, holding)")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Unknown")


class PersonOutcome(models.TextChoices):
    """What became of the people counted: killed and injured by sex and age, as SDG
    16.1.2 and the Secretary-General's reports on armed violence count them."""

    KILLED = "killed", _("Killed")
    INJURED = "injured", _("Injured")
    # Arrested or detained, or handed to the host State's law enforcement (the IAFQ's
    # criminal-justice section starts from the persons brought into formal contact).
    ARRESTED = "arrested", _("Arrested or detained")
    UNHARMED = "unharmed", _("Unharmed")
    UNKNOWN = "unknown", _("Unknown")


class Sex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    UNKNOWN = "unknown", _("Unknown")


class AgeGroup(models.TextChoices):
    CHILD = "child", _("Child (under 18)")
    ADULT = "adult", _("Adult")
    UNKNOWN = "unknown", _("Unknown")


class Condition(models.TextChoices):
    NEW = "new", _("New")
    SERVICEABLE = "serviceable", _("Serviceable")
    UNSERVICEABLE = "unserviceable", _("Unserviceable")
    DAMAGED = "damaged", _("Damaged")
    UNKNOWN = "unknown", _("Unknown")


class Disposition(models.TextChoices):
    """Where a recovered weapon is now (ISACS 05.30's record keeping; the IAFQ's
    "status/final disposal" of seized arms)."""

    HELD = "held", _("Held by the reporting unit")
    STORED = "stored", _("In storage")
    TRANSFERRED = "transferred", _("Transferred")
    HANDED_TO_HOST_STATE = "host_state", _("Handed over to the host State")
    RETAINED_AS_EVIDENCE = "evidence", _("Retained as evidence")
    REISSUED = "reissued", _("Re-issued")
    DESTROYED = "destroyed", _("Destroyed")
    RETURNED = "returned", _("Returned to lawful owner")


class OriginMethod(models.TextChoices):
    """How an illicit origin was established. SDG 16.4.2's metadata counts arms whose
    illicit origin or context was established by a competent authority, whatever the
    means: a trace (ITI §§ 14-23), a competent authority's finding, an investigation, or the
    weapon's own marks (a State-ownership mark, ISACS 05.30)."""

    TRACE = "trace", _("Trace")
    AUTHORITY_FINDING = "authority", _("Finding of a competent authority")
    INVESTIGATION = "investigation", _("Investigation")
    MARKING_EVIDENCE = "marking", _("Marking evidence")


class OriginKind(models.TextChoices):
    """The kind of illicit origin (UNODC IAFQ, tracing results; SDG 16.4.2)."""

    ILLICIT_MANUFACTURE = "illicit_manufacture", _("Illicit manufacture")
    STATE_STOCKS = "state_stocks", _("Diversion from State stocks")
    CIVILIAN_HOLDINGS = "civilian_holdings", _("Diversion from civilian holdings")
    ILLICIT_IMPORT = "illicit_import", _("Illicit import or transfer")
    OTHER = "other", _("Other")


class AmmunitionCategory(models.TextChoices):
    """What one unit of an ammunition item is, so that cartridges, grenades and mortar
    bombs are never added together (the IAFQ counts ammunition by these kinds; the UN
    SaferGuard IATG's groups)."""

    SMALL_ARMS_CARTRIDGE = "cartridge", _("Small-arms cartridges")
    SHOTGUN_CARTRIDGE = "shotgun", _("Shotgun cartridges")
    GRENADE = "grenade", _("Grenades (hand or rifle)")
    LAUNCHER_ROUND = "launcher_round", _("Grenade-launcher rounds")
    ROCKET_MISSILE = "rocket_missile", _("Rockets and missiles")
    MORTAR_BOMB = "mortar_bomb", _("Mortar bombs")
    ARTILLERY = "artillery", _("Artillery or tank rounds")
    OTHER = "other", _("Other")


class AmmunitionState(models.TextChoices):
    LIVE = "live", _("Live")
    SPENT = "spent", _("Spent (cases, fired)")
    UNKNOWN = "unknown", _("Unknown")


class AmmunitionType(models.TextChoices):
    BALL = "ball", _("Ball")
    TRACER = "tracer", _("Tracer")
    ARMOUR_PIERCING = "armour_piercing", _("Armour-piercing")
    INCENDIARY = "incendiary", _("Incendiary")
    SHOTGUN = "shotgun", _("Shotgun cartridge")
    GRENADE = "grenade", _("Grenade or rocket")
    MORTAR_BOMB = "mortar_bomb", _("Mortar bomb")
    OTHER = "other", _("Other")


class CustodyEventKind(models.TextChoices):
    DOCUMENTED = "documented", _("Documented")
    STORED = "stored", _("Stored")
    TRANSFERRED = "transferred", _("Transferred")
    DESTROYED = "destroyed", _("Destroyed")


class NotificationKind(models.TextChoices):
    """What happened to a record that someone is told of (incidents/notifications.py)."""

    SUBMITTED = "submitted", _("submitted for verification")
    RETURNED = "returned", _("returned for correction")
    VERIFIED = "verified", _("verified")
    WITHDRAWN = "withdrawn", _("withdrawn")
    # A seized weapon may be a registry entry's, or another seizure's (issue 23).
    HIT = "hit", _("possible match of a weapon")
