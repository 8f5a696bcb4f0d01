"""Controlled vocabularies of organisations: stable codes, translatable labels."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ContingentKind(models.TextChoices):
    TROOPS = "tcc", _("Troops (TCC)")
    POLICE = "pcc", _("Police (PCC)")
    FORMED_POLICE_UNIT = "fpu", _("Formed police unit")
    CIVILIAN = "civilian", _("Civilian")


class AgencyKind(models.TextChoices):
    CUSTOMS = "customs", _("National customs")
    POLICE = "police", _("National police")
    SALW_COMMISSION = "salw_commission", _("National commission on SALW")
    REGIONAL_SECRETARIAT = "regional_secretariat", _("Regional organisation secretariat")


class Role(models.TextChoices):
    REPORTER = "reporter", _("Contingent reporter")
    VERIFIER = "verifier", _("Verifier")
    MISSION_ANALYST = "mission_analyst", _("Mission analyst")
    REGIONAL_ANALYST = "regional_analyst", _("Regional analyst")
    WPS_ANALYST = "wps_analyst", _("WPS analyst")
    AGENCY = "agency", _("Agency (API consumer)")


class Releasability(models.IntegerChoices):
    """A ladder: each step releases a record to a wider circle than the one before."""

    MISSION_ONLY = 1, _("Mission only")
    HOST_STATE = 2, _("Host state")
    REGIONAL_ORGANISATION = 3, _("Regional organisation")
    PARTNER_AGENCIES = 4, _("Partner agencies")
    PUBLIC_AGGREGATES = 5, _("Public aggregates only")


class APIKeyScope(models.TextChoices):
    """What an agency's API key may do beyond reading what the agency is released. The code
    is the one the docs and error messages give: never change one, only add."""

    REGISTRY_WRITE = "registry:write", _("Record and update the agency's registry entries")


class WebhookEventType(models.TextChoices):
    """What an agency's webhook endpoint can be told of. The code is the event's name in
    the body and in the X-ArmsMonitor-Event header: never change one, only add."""

    REGISTRY_HIT = "registry.hit", _("A seized weapon matches one reported lost or stolen")
    PING = "webhook.ping", _("A test delivery sent by an administrator")
