"""What a hot-spot result says to its reader, in the reader's language: how many cells are
significant, at which scale and why, how stable, over what study area, with which
parameters; and, when nothing is significant, what to try next.

Written when the result is read, not when it is computed: the worker stores figures, and
each reader gets the sentences in their own language (ngettext, so "1 cell", "2 cells").
"""

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from geo.analyses.hotspots import ASKED, FALLBACK

# Fewer incidents than this and no concentration can be told from chance: the next step
# is more incidents, not another scale.
FEW_INCIDENTS = 30


def _number(value: float, decimals: int = 0) -> str:
    return number_format(round(value, decimals), decimals, force_grouping=True)


def _area(km2: float) -> str:
    # "about 36 km²", "about 5 km²", "about 0.7 km²": the cells' area is an average.
    return _number(km2, 0 if km2 >= 1 else 1)


def hotspot_explanation(summary: dict) -> dict | None:
    """{"headline", "next_step" (empty when something is significant), "details": [...]}
    for a hot-spot run's summary; None for results stored before they explained themselves."""
    if "scale" not in summary:
        return None
    significant = summary["significant"]
    cells = summary["cells"]
    return {
        "headline": _headline(significant, cells, fdr=summary["fdr"]),
        "next_step": "" if significant["cells"] else _next_step(summary),
        "details": [
            _scale(summary["scale"]),
            *([_stability(summary["stability"])] if significant["cells"] else []),
            _study_area(summary),
            _parameters(summary),
        ],
    }


def _headline(significant: dict, cells: int, *, fdr: bool) -> str:
    figures = {
        "significant": _number(significant["cells"]),
        "cells": _number(cells),
        "hot": _number(significant["hot"]),
        "cold": _number(significant["cold"]),
    }
    if not significant["cells"]:
        text = (
            ngettext(
                "No cell of %(cells)s is a significant hot or cold spot (FDR-corrected).",
                "No cell of %(cells)s is a significant hot or cold spot (FDR-corrected).",
                cells,
            )
            if fdr
            else ngettext(
                "No cell of %(cells)s is a significant hot or cold spot.",
                "No cell of %(cells)s is a significant hot or cold spot.",
                cells,
            )
        )
        return text % figures
    # Counted on the significant cells: English's noun follows N ("1 of 362 cells"), but
    # French's follows k ("1 cellule sur 362"), and a translation may need either.
    text = (
        ngettext(
            "%(significant)s of %(cells)s cells significant (FDR-corrected):",
            "%(significant)s of %(cells)s cells significant (FDR-corrected):",
            significant["cells"],
        )
        if fdr
        else ngettext(
            "%(significant)s of %(cells)s cells significant (not corrected for multiple tests):",
            "%(significant)s of %(cells)s cells significant (not corrected for multiple tests):",
            significant["cells"],
        )
    )
    kinds = [
        ngettext("%(hot)s hot spot", "%(hot)s hot spots", significant["hot"]) % figures,
        ngettext("%(cold)s cold spot", "%(cold)s cold spots", significant["cold"]) % figures,
    ]
    return f"{text % figures} {_(', ').join(kinds)}."


def _next_step(summary: dict) -> str:
    incidents = summary["incidents"]
    if incidents < FEW_INCIDENTS:
        return ngettext(
            "With %(incidents)s incident, no concentration can be told from chance: widen "
            "the period or the area.",
            "With %(incidents)s incidents, no concentration can be told from chance: widen "
            "the period or the area.",
            int(incidents),
        ) % {"incidents": _number(incidents)}
    steps = [
        _(
            "At this scale the incidents are spread about as chance would spread them. "
            "Widen the period or the area, so that more incidents are compared"
        )
    ]
    scale = summary["scale"]
    finer_kept = any(
        candidate["kept"] and candidate["resolution"] > scale["resolution"]
        for candidate in scale["candidates"]
    )
    if scale["reason"] == ASKED:
        steps.append(_("or leave the resolution empty, so that it is chosen from the data"))
    elif finer_kept:
        # A finer grid had enough incidents per cell but less clustering overall: a local
        # concentration may still show there.
        steps.append(_("or choose a finer resolution to look for local concentrations"))
    uncorrected = summary["significant"].get("uncorrected", 0)
    if summary["fdr"] and uncorrected:
        steps.append(
            ngettext(
                "without the FDR correction, %(uncorrected)s cell would pass at 90 %% "
                "confidence: read it as a lead, not a finding",
                "without the FDR correction, %(uncorrected)s cells would pass at 90 %% "
                "confidence: read them as leads, not findings",
                uncorrected,
            )
            % {"uncorrected": _number(uncorrected)}
        )
    return "; ".join(steps) + "."


def _scale(scale: dict) -> str:
    minimum = scale["minimum_mean_incidents"]
    figures = {
        "resolution": scale["resolution"],
        "area": _area(scale["cell_area_km2"]),
        "minimum": _number(minimum, 0 if minimum == int(minimum) else 1),
    }
    assessed = {candidate["resolution"]: candidate for candidate in scale["candidates"]}
    if scale["reason"] == ASKED:
        candidate = assessed[scale["resolution"]]
        text = _("Resolution %(resolution)s, about %(area)s km² per cell, as asked.") % figures
        if candidate["z_score"] is not None:
            text += " " + _("Global Moran's I z-score at this resolution: %(z)s.") % {
                "z": _number(candidate["z_score"], 2)
            }
        else:
            text += (
                " "
                + _(
                    "It has fewer than %(minimum)s incidents per occupied cell on average: most "
                    "cells hold one incident, too few to compare."
                )
                % figures
            )
        return text
    resolutions = sorted(assessed)
    figures |= {"first": resolutions[0], "last": resolutions[-1]}
    if scale["reason"] == FALLBACK:
        return (
            _(
                "Resolution %(resolution)s, about %(area)s km² per cell, the coarsest candidate: "
                "no resolution from %(first)s to %(last)s has at least %(minimum)s incidents per "
                "occupied cell on average."
            )
            % figures
        )
    chosen_z = _number(assessed[scale["resolution"]]["z_score"], 2)
    if sum(candidate["kept"] for candidate in assessed.values()) == 1:
        return _(
            "Resolution %(resolution)s, about %(area)s km² per cell, chosen as the only "
            "resolution from %(first)s to %(last)s with at least %(minimum)s incidents per "
            "occupied cell on average (Global Moran's I z-score %(z)s)."
        ) % (figures | {"z": chosen_z})
    others = [
        _("%(resolution)s: z %(z)s")
        % {"resolution": resolution, "z": _number(assessed[resolution]["z_score"], 2)}
        for resolution in resolutions
        if assessed[resolution]["kept"] and resolution != scale["resolution"]
    ]
    dropped = [resolution for resolution in resolutions if not assessed[resolution]["kept"]]
    text = _(
        "Resolution %(resolution)s, about %(area)s km² per cell, chosen because Global Moran's "
        "I z-score peaked there (z %(z)s) among resolutions %(first)s to %(last)s"
    ) % (figures | {"z": chosen_z})
    if others:
        text += " (" + _(", ").join(others) + ")"
    if dropped:
        text += _("; ") + ngettext(
            "resolution %(dropped)s left out: fewer than %(minimum)s incidents per occupied "
            "cell on average",
            "resolutions %(dropped)s left out: fewer than %(minimum)s incidents per occupied "
            "cell on average",
            len(dropped),
        ) % (figures | {"dropped": _(", ").join(map(str, dropped))})
    return text + "."


def _stability(stability: dict) -> str:
    neighbours = [neighbour for neighbour in stability["neighbours"] if neighbour["compared"]]
    left_out = [neighbour for neighbour in stability["neighbours"] if not neighbour["compared"]]
    figures = {
        "stable": _number(stability["stable"]),
        "significant": _number(stability["significant"]),
        "neighbours": _(" or ").join(str(neighbour["resolution"]) for neighbour in neighbours),
    }
    if not neighbours:
        return _("Stability across scales: no neighbouring resolution could be compared.")
    text = (
        ngettext(
            "Stable across scales: %(stable)s of the %(significant)s significant cell is a spot of "
            "the same kind at resolution %(neighbours)s.",
            "Stable across scales: %(stable)s of the %(significant)s significant cells are spots "
            "of the same kind at resolution %(neighbours)s.",
            stability["significant"],
        )
        % figures
    )
    each = [
        ngettext(
            "at resolution %(resolution)s, %(cells)s cell significant",
            "at resolution %(resolution)s, %(cells)s cells significant",
            neighbour["cells"],
        )
        % {"resolution": neighbour["resolution"], "cells": _number(neighbour["cells"])}
        for neighbour in neighbours
    ] + [
        _("resolution %(resolution)s not compared (more than %(limit)s cells with incidents)")
        % {"resolution": neighbour["resolution"], "limit": _number(neighbour["limit"])}
        for neighbour in left_out
    ]
    each_text = _("; ").join(each)
    return f"{text} {each_text[:1].upper()}{each_text[1:]}."


def _study_area(summary: dict) -> str:
    study_area = summary["study_area"]
    figures = {
        "cells": _number(study_area["cells"]),
        "area": _number(study_area["area_km2"]),
        "occupied": _number(study_area["occupied_cells"]),
        "incidents": _number(summary["incidents"]),
        "weapons": _number(summary["total"]),
    }
    text = (
        ngettext(
            "Study area: %(cells)s cell, about %(area)s km²",
            "Study area: %(cells)s cells, about %(area)s km²",
            study_area["cells"],
        )
        % figures
    )
    text += (
        ngettext(
            " (%(occupied)s with incidents, and the cells around them);",
            " (%(occupied)s with incidents, and the cells around them);",
            study_area["occupied_cells"],
        )
        % figures
    )
    text += " " + (
        ngettext(
            "%(incidents)s incident counted",
            "%(incidents)s incidents counted",
            int(summary["incidents"]),
        )
        % figures
    )
    if summary["measure"] == "weapons":
        text += ", " + (
            ngettext("%(weapons)s weapon", "%(weapons)s weapons", int(summary["total"])) % figures
        )
    return text + "."


def _parameters(summary: dict) -> str:
    rings = summary["scale"]["rings"]
    neighbourhood = ngettext(
        "each cell with the cells within %(rings)s ring of it",
        "each cell with the cells within %(rings)s rings of it",
        rings,
    ) % {"rings": rings}
    p_values = (
        ngettext(
            "p-values from %(permutations)s permutation",
            "p-values from %(permutations)s permutations",
            summary["permutations"],
        )
        % {"permutations": _number(summary["permutations"])}
        if summary["permutations"]
        else _("analytic p-values")
    )
    measure = _("weapons") if summary["measure"] == "weapons" else _("incidents")
    correction = _("FDR correction") if summary["fdr"] else _("no FDR correction")
    return _("Getis-Ord Gi* on %(measure)s: %(neighbourhood)s; %(p_values)s; %(correction)s.") % {
        "measure": measure,
        "neighbourhood": neighbourhood,
        "p_values": p_values,
        "correction": correction,
    }
