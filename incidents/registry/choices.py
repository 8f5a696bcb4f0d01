"""The registry's controlled vocabularies."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Circumstance(models.TextChoices):
    """How the weapon left its lawful holder (ITI §§ 9-10 ask States to account for losses
    and thefts of their stocks; the UN's peacekeeping SOP lists attacks on bases and
    convoys among them)."""

    ATTACK = "attack", _("Attack (base, convoy, patrol)")
    THEFT = "theft", _("Theft")
    LOSS = "loss", _("Loss")
    DIVERSION = "diversion", _("Diversion from stocks")


class ReportingBodyKind(models.TextChoices):
    MISSION = "mission", _("Mission")
    CONTINGENT = "contingent", _("Contingent")
    AGENCY = "agency", _("Agency")
    STATE = "state", _("State")


class HitReason(models.TextChoices):
    """Why a seized weapon matched: the kind of alteration the match allowed for."""

    EXACT = "exact", _("same serial number")
    CONFUSABLE = "confusable", _("characters confused on worn metal (0/O/D/Q, 1/I/L/7, …)")
    UNREADABLE = "unreadable", _("unreadable characters (? or *)")
    MISSING = "missing", _("one character missing")
    ADDED = "added", _("one character added")


class HitState(models.TextChoices):
    NEW = "new", _("new")
    CONFIRMED = "confirmed", _("confirmed")
    DISMISSED = "dismissed", _("dismissed")


class MakeAgreement(models.TextChoices):
    """How the two makes compare: the same manufacturer (by the controlled list and its
    aliases, or the same spelling), or one of them not known."""

    SAME = "same", _("same manufacturer")
    UNKNOWN = "unknown", _("make not known on one side")
