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
    ARMED_CONFLICT = "armed_conflict", _("Armed conflict")
    CRIMINAL = "criminal", _("Criminal / gang")
    INTERCOMMUNAL = "intercommunal", _("Intercommunal")
    OTHER = "other", _("Other")


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
    """SALW categories of the UN Register and the International Tracing Instrument."""

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
    CRAFT_PRODUCED = "craft_produced", _("Craft-produced weapons")


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


class PersonRole(models.TextChoices):
    SUSPECT = "suspect", _("Suspect")
    VICTIM = "victim", _("Victim")
    CIVILIAN = "civilian", _("Civilian")
    PEACEKEEPER = "peacekeeper", _("Peacekeeper")


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
    HELD = "held", _("Held by the reporting unit")
    STORED = "stored", _("In storage")
    TRANSFERRED = "transferred", _("Transferred")
    DESTROYED = "destroyed", _("Destroyed")
    RETURNED = "returned", _("Returned to lawful owner")


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
