"""Reports: generated documents (PDF, XLSX, CSV) of one template over one period and scope."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from armsmonitor.jobs import LeasedJob
from reports.querysets import ReportQuerySet


class ReportTemplate(models.TextChoices):
    MISSION_MONTHLY = "mission_monthly", _("Monthly mission arms-monitoring report")
    REGIONAL_OVERVIEW = "regional_overview", _("Regional overview")
    SECRETARY_GENERAL = "secretary_general", _("Input to the Secretary-General's report")
    SDG_16_4_2 = "sdg_16_4_2", _("SDG indicator 16.4.2")
    IAFQ = "iafq", _("UNODC Illicit Arms Flows Questionnaire tables")
    ISACS_TRACE = "isacs_trace", _("Trace requests (ISACS 05.31 tracing form)")


class ScopeKind(models.TextChoices):
    MISSION = "mission", _("Mission")
    REGION = "region", _("Regional organisation")
    COUNTRY = "country", _("Country")
    # Every record the requester may read, wherever it is (the Secretary-General's input).
    WORLD = "world", _("World")


class Report(LeasedJob):
    """One requested report: which template, over which period and scope, for whom, and
    how its generation went.

    A report is requested by a user (it then shows only what that user may read) or by the
    monthly schedule for a mission (it shows what the mission's analysts read). Identical
    requests on unchanged records share one report: `request_key` identifies the request,
    `data_fingerprint` the state of the records it read.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    LIVE_STATES = (State.QUEUED, State.RUNNING, State.DONE)
    PROGRESS_FIELDS = ("progress", "stage")

    template = models.CharField(_("template"), max_length=20, choices=ReportTemplate.choices)
    scope_kind = models.CharField(_("scope"), max_length=10, choices=ScopeKind.choices)
    # The mission's id, the region's code or the country's ISO 3166-1 alpha-3 code.
    scope_value = models.CharField(_("scope value"), max_length=30)
    scope_label = models.CharField(_("scope name"), max_length=200)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end (inclusive)"))
    options = models.JSONField(_("options"), default=dict, blank=True)
    language = models.CharField(_("language"), max_length=8, default="en")
    with_gender = models.BooleanField(_("with gender-disaggregated figures"), default=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reports",
    )
    mission = models.ForeignKey(
        "organisations.Mission",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="scheduled_reports",
        help_text=_("For scheduled reports: the mission whose records they read."),
    )
    request_key = models.CharField(max_length=64, db_index=True)
    data_fingerprint = models.CharField(max_length=64)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    stage = models.CharField(_("stage"), max_length=100, blank=True)
    error = models.TextField(_("why it failed"), blank=True)
    # The report's tables as written into every file: [{name, title, columns, hxl, rows}].
    tables = models.JSONField(_("tables"), null=True, blank=True)
    incidents_read = models.PositiveIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True)

    objects = ReportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Two identical requests arriving together still make one report.
            models.UniqueConstraint(
                fields=["request_key", "data_fingerprint"],
                condition=models.Q(state__in=["queued", "running", "done"]),
                name="one_live_report_per_request_and_data",
            ),
            models.CheckConstraint(
                condition=models.Q(requested_by__isnull=False) | models.Q(mission__isnull=False),
                name="report_requested_by_a_user_or_for_a_mission",
            ),
            models.CheckConstraint(
                condition=models.Q(period_start__lte=models.F("period_end")),
                name="report_period_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_template_display()}, {self.scope_label}, {self.period_label}"

    @property
    def period_label(self) -> str:
        return f"{self.period_start:%Y-%m-%d} – {self.period_end:%Y-%m-%d}"


def _report_file_path(report_file: "ReportFile", filename: str) -> str:
    # Names are chosen by the platform (template and table names), never by a user.
    return f"reports/{report_file.report_id}/{report_file.name}"


class ReportFile(models.Model):
    """One file of a generated report: the PDF, the workbook, or one table as CSV."""

    class Format(models.TextChoices):
        PDF = "pdf", "PDF"
        XLSX = "xlsx", "XLSX"
        CSV = "csv", "CSV"

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(_("file name"), max_length=120)
    file_format = models.CharField(_("format"), max_length=4, choices=Format.choices)
    content_type = models.CharField(max_length=100)
    file = models.FileField(upload_to=_report_file_path, max_length=300)
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["report", "file_format", "name"]
        constraints = [
            models.UniqueConstraint(fields=["report", "name"], name="one_file_per_report_and_name")
        ]

    def __str__(self) -> str:
        return self.name


class IndicatorFigure(models.Model):
    """One published figure of an indicator (SDG 16.4.2) for a country and year, as a
    report published it: numerator and denominator, since when (`as_of`), and its revision.

    A series is one country-year as one audience reads it in one scope, over the same part
    of the year: an SDG report's rows are stored when it is generated, and a new revision
    is stored only when the figure differs from the series' last one (a late trace answer or
    illicit origin revising a past year), so that the report can say "revised from 3 of 10
    on 2026-03-01" (reports/documents/sdg_16_4_2.py). `audience` is "whole" for readers who read
    every verified record of the scope (an administrator; a mission's verifiers and analysts,
    or its schedule, on that mission), else the requester ("user:<id>"), whose figures may
    be narrower and must not revise the others'."""

    indicator = models.CharField(_("indicator"), max_length=20, default="16.4.2")
    scope_kind = models.CharField(_("scope"), max_length=10, choices=ScopeKind.choices)
    scope_value = models.CharField(_("scope value"), max_length=30)
    audience = models.CharField(_("audience"), max_length=40)
    country = models.CharField(_("country"), max_length=3, blank=True)
    year = models.PositiveSmallIntegerField(_("year"))
    # The part of the year the report's period covered (the whole year, or less).
    span_start = models.DateField(_("from"))
    span_end = models.DateField(_("to"))
    numerator = models.PositiveIntegerField(_("numerator"))
    denominator = models.PositiveIntegerField(_("denominator"))
    revision = models.PositiveIntegerField(_("revision"))
    as_of = models.DateTimeField(_("published as of"))
    report = models.ForeignKey(
        Report, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["indicator", "scope_kind", "scope_value", "country", "year", "revision"]
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "indicator",
                    "scope_kind",
                    "scope_value",
                    "audience",
                    "country",
                    "year",
                    "span_start",
                    "span_end",
                    "revision",
                ],
                name="one_indicator_figure_per_series_and_revision",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"SDG {self.indicator} {self.country or '?'} {self.year}: "
            f"{self.numerator}/{self.denominator} (revision {self.revision})"
        )
