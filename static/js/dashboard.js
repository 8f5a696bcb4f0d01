// The dashboard's charts, drawn with Chart.js from the figures each chart's <script
// type="application/json"> carries (written by the server with json_script). A click on a
// bar or a point opens the map narrowed to it, as the link of its row in the table does.
// Without JavaScript the tables stay open and hold the same figures.
(function () {
  "use strict";

  // Okabe–Ito: told apart with the common colour-vision deficiencies.
  const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"];

  function dataset(spec, data, index) {
    const colour = spec.datasets.length > 1 ? PALETTE[index % PALETTE.length] : PALETTE[0];
    return Object.assign({}, data, {
      backgroundColor: colour,
      borderColor: colour,
      pointRadius: spec.type === "line" ? 3 : undefined,
      tension: 0,
    });
  }

  function draw(canvas) {
    const source = document.getElementById(canvas.dataset.chart);
    if (!source || typeof window.Chart === "undefined") {
      return null;
    }
    const spec = JSON.parse(source.textContent);
    const valueAxis = { beginAtZero: true, stacked: spec.stacked, ticks: { precision: 0 } };
    // A time axis may skip labels; a category axis names every bar (issue 22: the chart by
    // category labelled every other one), its box tall enough for one label a bar.
    const labelAxis = { stacked: spec.stacked, ticks: { autoSkip: spec.type === "line" } };
    if (spec.horizontal) {
      canvas.parentElement.style.height = Math.max(14, spec.labels.length * 1.6) + "rem";
    }
    return new window.Chart(canvas, {
      type: spec.type,
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (data, index) { return dataset(spec, data, index); }),
      },
      options: {
        indexAxis: spec.horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: spec.type === "line" ? { mode: "index", intersect: false } : { mode: "nearest", intersect: true },
        plugins: { legend: { display: spec.datasets.length > 1, position: "bottom" } },
        scales: spec.horizontal ? { x: valueAxis, y: labelAxis } : { x: labelAxis, y: valueAxis },
        onClick: function (event, elements) {
          if (elements.length && spec.links[elements[0].index]) {
            window.location.assign(spec.links[elements[0].index]);
          }
        },
        onHover: function (event, elements) {
          event.native.target.style.cursor = elements.length ? "pointer" : "default";
        },
      },
    });
  }

  function start() {
    let drawn = 0;
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (draw(canvas)) {
        drawn += 1;
        // The chart shows the figures; its table folds away, one click from the reader.
        const table = canvas.closest(".chart-card").querySelector("details.chart-table");
        if (table) {
          table.open = false;
        }
      }
    });
    document.documentElement.dataset.chartsDrawn = String(drawn);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
