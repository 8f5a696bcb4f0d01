"""Static maps for the PDF reports, drawn with matplotlib (Agg) from the platform's own
boundaries and results: no web tiles, nothing downloaded.

Country outlines come from geo_country, simplified in PostGIS; seizures are dots on a grid
of the locations the reader may see; hot spots are the hexagons of a stored hot-spot run;
flows are the lines of the flow analysis.
"""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")

import geopandas as gpd
import matplotlib.pyplot as plt
from django.db import connection
from shapely import wkb
from shapely.geometry import shape

WIDTH_IN, HEIGHT_IN, DPI = 6.8, 4.6, 110
LAND, BORDER, FOCUS = "#f2efe9", "#9a9a9a", "#e3ddd0"
HOT_COLOURS = {3: "#b2182b", 2: "#ef8a62", 1: "#fddbc7"}


def boundaries(countries: list[str] | tuple[str, ...], *, tolerance: float = 0.02):
    """The countries' outlines as a GeoDataFrame (iso3, geometry), simplified in SQL."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT iso3, ST_AsBinary(ST_SimplifyPreserveTopology(boundary, %s))"
            " FROM geo_country WHERE iso3 = ANY(%s) ORDER BY iso3",
            (tolerance, list(countries)),
        )
        rows = cursor.fetchall()
    return gpd.GeoDataFrame(
        {"iso3": [row[0] for row in rows]},
        geometry=[wkb.loads(bytes(row[1])) for row in rows],
        crs="EPSG:4326",
    )


def neighbours_of(countries: list[str] | tuple[str, ...]) -> list[str]:
    """The focus countries and those touching them, for context around the map."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT other.iso3 FROM geo_country AS focus"
            " JOIN geo_country AS other ON ST_Intersects(other.boundary, ST_Expand(focus.boundary"
            "::geometry, 0.5)) WHERE focus.iso3 = ANY(%s)",
            (list(countries),),
        )
        return sorted({row[0] for row in cursor.fetchall()} | set(countries))


def _base_map(focus: list[str] | tuple[str, ...], extra_bounds=None):
    figure, axes = plt.subplots(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    context = boundaries(neighbours_of(focus)) if focus else None
    focused = boundaries(focus) if focus else None
    if context is not None and len(context):
        context.plot(ax=axes, color=LAND, edgecolor=BORDER, linewidth=0.4)
    if focused is not None and len(focused):
        focused.plot(ax=axes, color=FOCUS, edgecolor="#555555", linewidth=0.8)
        minx, miny, maxx, maxy = focused.total_bounds
        if extra_bounds:
            minx, miny = min(minx, extra_bounds[0]), min(miny, extra_bounds[1])
            maxx, maxy = max(maxx, extra_bounds[2]), max(maxy, extra_bounds[3])
        pad_x, pad_y = (maxx - minx) * 0.05 + 0.2, (maxy - miny) * 0.05 + 0.2
        axes.set_xlim(minx - pad_x, maxx + pad_x)
        axes.set_ylim(miny - pad_y, maxy + pad_y)
    axes.set_aspect("equal")
    axes.set_xlabel("")
    axes.set_ylabel("")
    axes.tick_params(labelsize=7)
    axes.set_facecolor("#dbe9f4")
    return figure, axes


def _png(figure) -> str:
    buffer = io.BytesIO()
    figure.tight_layout()
    # No timestamp in the PNG: the same figures give the same file.
    figure.savefig(buffer, format="png", metadata={"Software": None})
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def seizures_map(focus, points: list[tuple], *, legend: str) -> str:
    """Dots sized by weapons at each grid cell of seizures."""
    figure, axes = _base_map(focus)
    if points:
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        largest = max(max(p[3] for p in points), 1)
        sizes = [8 + 120 * (p[3] / largest) for p in points]
        axes.scatter(xs, ys, s=sizes, c="#c0392b", alpha=0.55, edgecolors="none", label=legend)
        axes.legend(loc="lower left", fontsize=7)
    return _png(figure)


def hotspots_map(focus, cells: list[tuple]) -> str:
    """Hexagons of a stored hot-spot run: (WKB polygon, class), hot classes coloured."""
    figure, axes = _base_map(focus)
    for polygon_wkb, spot_class in cells:
        polygon = wkb.loads(bytes(polygon_wkb))
        xs, ys = polygon.exterior.xy
        axes.fill(xs, ys, color=HOT_COLOURS.get(spot_class, "#cccccc"), linewidth=0)
    return _png(figure)


def flows_map(focus, lines: list[dict]) -> str:
    """Flow lines from origin to seizure country, widths by weapons."""
    geometries = [shape(line["geometry"]) for line in lines if line.get("geometry")]
    bounds = None
    if geometries:
        collection = gpd.GeoSeries(geometries, crs="EPSG:4326")
        bounds = tuple(collection.total_bounds)
    figure, axes = _base_map(focus, extra_bounds=bounds)
    if geometries:
        largest = max(line["items"] for line in lines) or 1
        for line, geometry in zip(lines, geometries, strict=False):
            xs, ys = geometry.xy
            axes.annotate(
                "",
                xy=(xs[-1], ys[-1]),
                xytext=(xs[0], ys[0]),
                arrowprops={
                    "arrowstyle": "-|>",
                    "color": "#2c7fb8",
                    "alpha": 0.7,
                    "linewidth": 0.6 + 3.5 * line["items"] / largest,
                    "connectionstyle": "arc3,rad=0.15",
                },
            )
    return _png(figure)
