"""Charts for the PDF reports, drawn with matplotlib (Agg) from a report's tables."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from reports.documents.static_maps import _png

WIDTH_IN, DPI = 6.8, 110


def bar_chart(labels: list[str], values: list[float], *, xlabel: str) -> str:
    """A horizontal bar chart, largest at the top."""
    height = max(1.6, 0.28 * len(labels) + 0.8)
    figure, axes = plt.subplots(figsize=(WIDTH_IN, height), dpi=DPI)
    axes.barh(list(reversed(labels)), list(reversed(values)), color="#2c7fb8")
    axes.set_xlabel(xlabel, fontsize=8)
    axes.tick_params(labelsize=7)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return _png(figure)


def line_chart(periods: list[str], series: dict[str, list[float]], *, ylabel: str) -> str:
    figure, axes = plt.subplots(figsize=(WIDTH_IN, 2.8), dpi=DPI)
    for name, values in series.items():
        axes.plot(
            range(len(periods)), values, marker="o", markersize=2.5, linewidth=1.2, label=name
        )
    axes.set_ylabel(ylabel, fontsize=8)
    axes.tick_params(labelsize=7)
    step = max(1, len(periods) // 12)
    axes.set_xticks(range(0, len(periods), step))
    axes.set_xticklabels(periods[::step], rotation=45, ha="right")
    if len(series) > 1:
        axes.legend(fontsize=7, ncols=2)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return _png(figure)
