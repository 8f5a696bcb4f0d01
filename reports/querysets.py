"""Reads over reports."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q

if TYPE_CHECKING:
    from organisations.access import Principal


class ReportQuerySet(models.QuerySet):
    def visible_to(self, principal: Principal) -> ReportQuerySet:
        """Reports the principal may read: the ones it asked for (written from what it may
        read), and the scheduled reports of missions it reads whole."""
        from organisations.access import AgencyPrincipal, missions_read_whole

        if isinstance(principal, AgencyPrincipal) or not principal.is_authenticated:
            return self.none()
        if principal.is_superuser and principal.is_active:
            return self.all()
        return self.filter(
            Q(requested_by=principal)
            | Q(requested_by__isnull=True, mission_id__in=missions_read_whole(principal))
        )
