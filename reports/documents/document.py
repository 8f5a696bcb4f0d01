"""The shape every report template produces: sections of text, tables and pictures.

The tables are what every output is written from: the PDF shows them, the workbook has one
sheet each, each has a CSV of its own, and the API returns them. So the PDF, the XLSX and
the CSV of one report always carry the same figures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

if TYPE_CHECKING:
    from organisations.access import Principal
    from reports.models import Report
    from reports.scope import Scope

# Called with a whole percentage (0–100) and the stage reached.
Progress = Callable[[int, str], None]


@dataclass
class Table:
    name: str  # file-safe: the CSV's and the sheet's name
    title: str
    columns: list[str]
    rows: list[list[Any]]
    # One HXL hashtag per column (https://hxlstandard.org), for the optional CSV row. An
    # HXL CSV holds one value per cell: see rendering.hxl_columns for how a "Name (CODE)"
    # country column and a list column are written there.
    hxl: list[str] = field(default_factory=list)
    note: str = ""
    # "grid": one row per line; "records": one block per row (for wide forms in the PDF).
    layout: str = "grid"
    # Columns whose cells list several values, by index, with the separator they are
    # joined by (", "); an HXL CSV spreads them over repeated columns of one hashtag.
    lists: dict[int, str] = field(default_factory=dict)

    def as_json(self) -> dict:
        # `lists` only shapes the HXL CSV: it is not part of the stored table.
        data = asdict(self)
        del data["lists"]
        return data


@dataclass
class Figure:
    """A picture (map or chart) as a PNG data URI, with its caption."""

    caption: str
    data_uri: str


@dataclass
class Section:
    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)


@dataclass
class Document:
    title: str
    subtitle: str
    sections: list[Section]
    notes: list[str] = field(default_factory=list)

    @property
    def tables(self) -> list[Table]:
        return [table for section in self.sections for table in section.tables]


@dataclass
class ReportContext:
    """What a template module reads: the report, its scope, the incidents it covers (in
    the period, and over all time for chains of custody and tracing), and the reader.

    The incidents are verified records only, whoever asks (reports.scope.report_reading);
    `left_out` are those the report leaves out because not yet verified."""

    report: Report
    scope: Scope
    requester: Principal | None
    incidents: QuerySet  # verified, in scope and period, as the reader may read them
    scope_incidents: QuerySet  # verified, in scope, any date
    left_out: QuerySet  # not yet verified, in scope and period: counted, never shown
    with_gender: bool
    progress: Progress
    generated_at: datetime

    @property
    def period_start(self) -> date:
        return self.report.period_start

    @property
    def period_end(self) -> date:
        return self.report.period_end

    @property
    def option(self) -> dict:
        return self.report.options or {}


def json_cell(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
