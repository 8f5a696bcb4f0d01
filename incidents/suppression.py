"""Small-cell suppression: the one helper every output that counts people uses (the
reports' tables, the dashboard, the trends analysis). It lives in `incidents`, below both
`reports` and `geo.analyses` in the layers of pyproject.toml, so that each may import it.

The rule (README, "Small-cell suppression"):

- Primary: a count of people from 1 to one below `settings.SMALL_CELL_THRESHOLD` (default
  5) prints as "< 5". Zero prints as 0; counts at or above the threshold print as they are.
- Secondary: wherever counts add up to a total (a row with its row total, a column with
  its column total, the totals with the grand total, or the rows of a detailed table that
  add up to a cell of an aggregated table of the same report), a suppressed cell or total
  must not be the only unknown of that sum. When it is, the smallest other non-zero printed
  cell of the sum is withheld too ("x"); when there is none (the others are zeros), the
  total is withheld. This is repeated until no sum has exactly one unknown. A figure that
  the report prints nowhere (people in conflict contexts, beside the table of armed
  violence outside conflict) counts as an unknown of its sums.

The rule guards against recovering a cell by subtracting along one row or column, the usual
statistical-office practice; it does not claim to defeat every combination of equations
across a table. Cells (not totals) are only ever hidden, never changed.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Sequence

from django.conf import settings
from django.utils.translation import gettext as _

# What a withheld cell prints as when it is not itself small: it is hidden only so that a
# small cell cannot be worked out from a total.
SECONDARY = "x"
# A printed suppressed cell: "< 5" or "x" (rendering.py writes it as an empty numeric cell
# plus a #meta+suppressed column in an HXL CSV).
SUPPRESSED_CELL = re.compile(r"^(< \d+|x)$")


def threshold() -> int:
    return settings.SMALL_CELL_THRESHOLD


def below() -> str:
    """What a small cell prints as: "< 5"."""
    return f"< {threshold()}"


def is_suppressed(value) -> bool:
    return isinstance(value, str) and SUPPRESSED_CELL.match(value) is not None


def is_small(value: int) -> bool:
    return 0 < value < threshold()


def note() -> str:
    """What a table of people says of its small counts; nothing when the threshold is 1
    (suppression off)."""
    if threshold() <= 1:
        return ""
    return _(
        'Counts of people from 1 to %(below)s print as "< %(threshold)s"; "x" marks a '
        "count withheld so that a small one cannot be worked out from a total."
    ) % {"below": threshold() - 1, "threshold": threshold()}


Line = tuple[Sequence[Hashable], Hashable]  # (the cells that add up, the cell of their total)


def suppress(
    values: dict[Hashable, int], lines: Iterable[Line], *, unprinted: Iterable[Hashable] = ()
) -> dict[Hashable, int | str]:
    """The printed value of every cell of `values`: small cells "< 5", cells withheld by
    the secondary rule "x", the others as they are. `lines` say which cells add up to
    which (printed) total; `unprinted` cells are in sums but printed nowhere in the report
    (unknown to its reader)."""
    lines = list(lines)
    unprinted = set(unprinted)
    small = {key for key, value in values.items() if is_small(value) and key not in unprinted}
    hidden = small | unprinted
    changed = True
    while changed:
        changed = False
        for parts, total in lines:
            unknown = [key for key in (*parts, total) if key in hidden]
            # One unknown in a sum is worked out by subtraction, unless it is printed
            # nowhere anyway.
            if len(unknown) != 1 or unknown[0] in unprinted:
                continue
            printed_parts = [key for key in parts if key not in hidden]
            nonzero = [key for key in printed_parts if values[key] > 0]
            if nonzero:
                hidden.add(min(nonzero, key=lambda key: values[key]))
            elif total not in hidden:
                hidden.add(total)
            elif printed_parts:
                hidden.add(printed_parts[0])
            else:
                continue
            changed = True
    return {
        key: (below() if key in small else SECONDARY) if key in hidden else value
        for key, value in values.items()
    }


def suppress_column(rows: list[list], index: int) -> list[list]:
    """Rows of a table with no printed totals: the counts of people in column `index`
    suppressed (primary suppression only: there is no total to subtract from)."""
    return [
        [below() if i == index and is_small(value) else value for i, value in enumerate(row)]
        for row in rows
    ]


def grid_cells(
    name: str, grid: list[list[int]], *, row_totals: bool = True, column_totals: bool = True
) -> tuple[dict[Hashable, int], list[Line]]:
    """The cells of a grid, with a total column on the right and a total row at the bottom
    (as asked), keyed (name, row, column), and the sums they make, for `suppress`; a total
    row and a total column both add up to the grand total."""
    height, width = len(grid), len(grid[0]) if grid else 0
    values: dict[Hashable, int] = {
        (name, i, j): grid[i][j] for i in range(height) for j in range(width)
    }
    lines: list[Line] = []
    rows = range(height + 1) if column_totals else range(height)
    columns = range(width + 1) if row_totals else range(width)
    if row_totals:
        for i in range(height):
            values[(name, i, width)] = sum(grid[i])
    if column_totals:
        for j in columns:
            values[(name, height, j)] = sum(values[(name, i, j)] for i in range(height))
    if row_totals:
        lines += [([(name, i, j) for j in range(width)], (name, i, width)) for i in rows]
    if column_totals:
        lines += [([(name, i, j) for i in range(height)], (name, height, j)) for j in columns]
    return values, lines


def grid_rows(
    name: str, grid: list[list[int]], printed: dict, *, row_totals=True, column_totals=True
):
    """The printed rows of a grid that went through `suppress` (see grid_cells)."""
    height, width = len(grid), len(grid[0]) if grid else 0
    rows = height + (1 if column_totals else 0)
    columns = width + (1 if row_totals else 0)
    return [[printed[(name, i, j)] for j in range(columns)] for i in range(rows)]


def suppress_grid(
    grid: list[list[int]], *, row_totals: bool = True, column_totals: bool = True
) -> list[list[int | str]]:
    """A grid of counts of people, with a total column on the right and a total row at
    the bottom (as asked), suppressed: primary, then secondary along every row, column and
    the totals themselves."""
    if not grid:
        return []
    options = {"row_totals": row_totals, "column_totals": column_totals}
    values, lines = grid_cells("grid", grid, **options)
    return grid_rows("grid", grid, suppress(values, lines), **options)
