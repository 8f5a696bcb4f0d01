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
from PIL import Image
from shapely import wkb
from shapely.geometry import shape

WIDTH_IN, HEIGHT_IN, DPI = 6.8, 4.6, 110
LAND, BORDER, FOCUS = "#f2efe9", "#9a9a9a", "#e3ddd0"
HOT_COLOURS = {3: "#b2182b", 2: "#ef8a62", 1: "#fddbc7"}


def boundaries(countries: list[str] | tuple[str, ...], *, tolerance: float = 0.02):
    """The countries' outlines as a GeoDataFrame (iso3, geometry), simplified in SQL."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT iso3, ST_AsBinary(ST_Simplify(boundary, %s, true))"
            " FROM geo_country WHERE iso3 = ANY(%s) ORDER BY iso3",
            (tolerance, list(countries)),
        )
        rows = cursor.fetchall()
    return gpd.GeoDataFrame(
        {"iso3": [row[0] for row in rows]},
        geometry=[wkb.loads(bytes(row[1])) for row in rows],
        crs="EPSG:4326",
    )


def countries_within(bounds: tuple[float, float, float, float], *, tolerance: float):
    """Every country touching a bounding box (west, south, east, north), simplified."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT iso3 FROM geo_country"
            " WHERE boundary && ST_MakeEnvelope(%s, %s, %s, %s, 4326) ORDER BY iso3",
            [float(value) for value in bounds],
        )
        codes = [row[0] for row in cursor.fetchall()]
    return boundaries(codes, tolerance=tolerance)


def _base_map(focus, extra_bounds=None):
    figure, axes = plt.subplots(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    focused = boundaries(focus) if focus else None
    bounds = tuple(focused.total_bounds) if focused is not None and len(focused) else None
    if extra_bounds:
        bounds = (
            extra_bounds
            if bounds is None
            else (
                min(bounds[0], extra_bounds[0]),
                min(bounds[1], extra_bounds[1]),
                max(bounds[2], extra_bounds[2]),
                max(bounds[3], extra_bounds[3]),
            )
        )
    if bounds is not None:
        minx, miny, maxx, maxy = bounds
        pad_x, pad_y = (maxx - minx) * 0.05 + 0.2, (maxy - miny) * 0.05 + 0.2
        view = (minx - pad_x, miny - pad_y, maxx + pad_x, maxy + pad_y)
        # Coarser outlines for wider views: the same look at any scale, smaller files.
        tolerance = max(0.02, float(view[2] - view[0]) / 500)
        context = countries_within(view, tolerance=tolerance)
        if len(context):
            context.plot(ax=axes, color=LAND, edgecolor=BORDER, linewidth=0.4)
        if focused is not None and len(focused):
            focused.plot(ax=axes, color=FOCUS, edgecolor="#555555", linewidth=0.8)
        axes.set_xlim(view[0], view[2])
        axes.set_ylim(view[1], view[3])
    axes.set_aspect("equal")
    axes.set_xlabel("")
    axes.set_ylabel("")
    axes.tick_params(labelsize=7)
    axes.set_facecolor("#dbe9f4")
    return figure, axes


def _png(figure) -> str:
    """The figure as a PNG data URI, reduced to a 64-colour palette: maps and charts have
    few colours, and small pictures keep the PDF small and quick to write."""
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    buffer.seek(0)
    picture = Image.open(buffer).convert("RGB").quantize(colors=64)
    reduced = io.BytesIO()
    # No timestamp or software tag: the same figures give the same file.
    picture.save(reduced, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(reduced.getvalue()).decode()


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
    """Hexagons of a stored hot-spot run, (WKB polygon, class), marked at their centres:
    at a country's scale the hexagons themselves would be too small to see."""
    figure, axes = _base_map(focus)
    for spot_class in sorted({spot for _polygon, spot in cells}):
        centres = [
            wkb.loads(bytes(polygon)).centroid for polygon, spot in cells if spot == spot_class
        ]
        axes.scatter(
            [point.x for point in centres],
            [point.y for point in centres],
            s=22,
            marker="h",
            color=HOT_COLOURS.get(spot_class, "#cccccc"),
            edgecolors="#7f0000",
            linewidths=0.3,
            label={3: "99 %", 2: "95 %", 1: "90 %"}.get(spot_class, ""),
        )
    if cells:
        axes.legend(loc="lower left", fontsize=7)
    return _png(figure)


def flows_map(focus, lines: list[dict]) -> str:
    """Illicit origins established as arrows from the country of diversion to the country of
    seizure, routes dashed through each country crossed with an arrow on their last leg
    (geo/analyses/flows.py `lines`); widths by weapons."""
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
            width = 0.6 + 3.5 * line["items"] / largest
            route = line.get("shows") == "route"
            colour = "#b35806" if route else "#2c7fb8"
            if route:
                axes.plot(xs[:-1], ys[:-1], color=colour, alpha=0.7, linewidth=width, ls="--")
            axes.annotate(
                "",
                xy=(xs[-1], ys[-1]),
                xytext=(xs[-2], ys[-2]) if route else (xs[0], ys[0]),
                arrowprops={
                    "arrowstyle": "-|>",
                    "color": colour,
                    "alpha": 0.7,
                    "linewidth": width,
                    "linestyle": "--" if route else "-",
                    "connectionstyle": "arc3,rad=0" if route else "arc3,rad=0.15",
                },
            )
    return _png(figure)
