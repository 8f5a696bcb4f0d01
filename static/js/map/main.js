// The analyst's map: wires the filters, the layers, the address bar, "analyse this view"
// and the export links together. Settings come from the page (json_script), labels from
// data-* attributes: no inline script.
import { analyse } from "./analyse.js";
import { counted } from "./counted.js";
import { showExplanation } from "./explanation.js";
import { HitsLayer } from "./hits.js";
import { IncidentsLayer } from "./incidents.js";
import { analysisLayer, referenceLayer } from "./layers.js";
import {
  formFilters, monthCount, monthEnd, monthIndex, monthStart, readView, restoreForm, RUN_KINDS, viewParams,
} from "./state.js";

const settings = JSON.parse(document.getElementById("map-settings").textContent);
const container = document.getElementById("map");
const text = container.dataset;
const form = document.getElementById("map-filters");
const count = document.getElementById("map-count");
const readFrom = document.getElementById("map-source");
const errors = document.getElementById("map-errors");
const areaText = document.getElementById("map-area-text");
const layerBoxes = [...document.querySelectorAll("#map-layers input[type=checkbox]")];
const runSelects = Object.fromEntries(
  [...document.querySelectorAll("[data-run-kind]")].map((select) => [select.dataset.runKind, select]),
);

const initial = new URLSearchParams(window.location.search);
const view = readView(initial, settings);
let polygon = restoreForm(form, initial);

const map = L.map(container, { center: view.centre, zoom: view.zoom, keyboard: true, minZoom: 2 });
if (settings.tiles) {
  L.tileLayer(settings.tiles, { maxZoom: 18, attribution: "© OpenStreetMap contributors" }).addTo(map);
}

// --- Drawn area -----------------------------------------------------------------------
const drawn = L.featureGroup().addTo(map);
map.addControl(new L.Control.Draw({
  draw: { polygon: { allowIntersection: false }, polyline: false, rectangle: false, circle: false, marker: false, circlemarker: false },
  edit: { featureGroup: drawn, edit: false, remove: false },
}));
function showArea() {
  areaText.textContent = polygon ? text.textArea : text.textNoArea;
}
if (polygon) {
  try {
    drawn.addLayer(L.geoJSON(JSON.parse(polygon), { style: { color: "#e66100", fillOpacity: 0.05 } }));
  } catch {
    polygon = null;
  }
}
showArea();
map.on(L.Draw.Event.CREATED, (event) => {
  drawn.clearLayers();
  event.layer.setStyle({ color: "#e66100", fillOpacity: 0.05 });
  drawn.addLayer(event.layer);
  const geometry = event.layer.toGeoJSON(5).geometry;
  polygon = JSON.stringify(geometry);
  showArea();
  refresh();
});
document.getElementById("map-area-clear").addEventListener("click", () => {
  drawn.clearLayers();
  polygon = null;
  showArea();
  refresh();
});

// --- Layers ---------------------------------------------------------------------------
const incidents = new IncidentsLayer(map, { ...settings.urls, kinds: settings.kinds }, text, {
  onCount: (total, mode, source) => {
    count.textContent = counted(total, text.textIncident, text.textIncidents);
    errors.textContent = "";
    // Read from a replica: how far behind it was (the server's sentence, translated).
    readFrom.hidden = !source;
    readFrom.textContent = source?.note ?? "";
  },
  onError: (fieldErrors) => {
    errors.textContent = `${text.textError} ${Object.entries(fieldErrors)
      .map(([field, list]) => `${field}: ${list.map((error) => error.message).join(" ")}`)
      .join("; ")}`;
  },
});
// Registry hits: loaded with each view while shown; greyed out with the reason when the
// view holds none (the box stays on: the next view may hold some), and turned off when the
// registry holds no entry at all.
const hitsBox = layerBoxes.find((box) => box.value === "hits");
function explainHits(reason) {
  const label = hitsBox.closest("label");
  label.querySelector(".layer-reason")?.remove();
  label.classList.toggle("unavailable", Boolean(reason));
  if (!reason) return;
  const note = document.createElement("small");
  note.className = "layer-reason";
  note.textContent = reason === "no-registry" ? hitsBox.dataset.emptyRegistry : hitsBox.dataset.emptyView;
  label.append(note);
  if (reason === "no-registry") {
    hitsBox.checked = false;
    hitsBox.disabled = true;
    map.removeLayer(hits.group);
    saveView();
  }
}
const hits = new HitsLayer(map, settings.urls, text, {
  onCount: (_total, _mode, _source, body) => explainHits(body.empty),
  onError: (fieldErrors) => incidents.onError(fieldErrors),
});
const references = {};
function layerFor(name) {
  if (name === "incidents") return incidents.group;
  if (name === "hits") return hits.group;
  references[name] ??= referenceLayer(name, settings.urls, settings.admin_countries);
  return references[name];
}
for (const box of layerBoxes) box.checked = view.layers.includes(box.value);
// A reference layer with nothing to draw is greyed out with the reason (issue 22: mission
// and contingents' areas drew nothing, silently).
function explainEmpty(box, layer) {
  layer.ready?.then(() => {
    if (layer.getLayers().length > 0 || !box.dataset.empty) return;
    box.checked = false;
    box.disabled = true;
    if (map.hasLayer(layer)) map.removeLayer(layer);
    const label = box.closest("label");
    label.classList.add("unavailable");
    const reason = document.createElement("small");
    reason.className = "layer-reason";
    reason.textContent = box.dataset.empty;
    label.append(reason);
    saveView();
  });
}
function applyLayers() {
  for (const box of layerBoxes) {
    const layer = layerFor(box.value);
    if (box.checked && !map.hasLayer(layer)) {
      map.addLayer(layer);
      explainEmpty(box, layer);
      if (layer === hits.group) hits.loading = hits.load(currentFilters());
    }
    if (!box.checked && map.hasLayer(layer)) {
      map.removeLayer(layer);
      if (layer === hits.group) explainHits(null);
    }
  }
  references.countries?.bringToBack();
}
for (const box of layerBoxes) box.addEventListener("change", () => { applyLayers(); saveView(); });

const runLayers = {};
const legend = document.getElementById("map-legend");
// `zoom`: the analyst asked for this hot-spot run (analysed or chosen it), so the map shows
// all of its study area; a run opened from a shared link keeps the link's view.
async function showRun(kind, { zoom = false } = {}) {
  if (runLayers[kind]) map.removeLayer(runLayers[kind]);
  delete runLayers[kind];
  const id = runSelects[kind]?.value;
  if (kind === "hotspots") {
    legend.hidden = !id;
    showExplanation(legend, null, text);
  }
  if (!id) return;
  try {
    runLayers[kind] = await analysisLayer(kind, id, settings.urls, text);
    runLayers[kind].addTo(map);
    if (kind === "clusters" && runLayers[kind].getLayers().length === 0) {
      errors.textContent = text.textNoClusters;
    }
    if (kind === "hotspots") {
      showExplanation(legend, runLayers[kind].run, text);
      const bounds = runLayers[kind].getBounds();
      if (zoom && bounds.isValid()) map.fitBounds(bounds, { padding: [20, 20] });
    }
    container.dataset[`run${kind[0].toUpperCase()}${kind.slice(1)}`] = id;
  } catch (error) {
    errors.textContent = `${text.textError} ${error.message}`;
  }
}
for (const kind of RUN_KINDS) {
  const select = runSelects[kind];
  if (!select) continue;
  if (view.runs[kind] && ![...select.options].some((option) => option.value === view.runs[kind])) {
    select.add(new Option(`#${view.runs[kind]}`, view.runs[kind]));
  }
  select.value = view.runs[kind];
  select.addEventListener("change", () => { showRun(kind, { zoom: true }); saveView(); });
}

// --- Time slider ----------------------------------------------------------------------
const fromInput = form.querySelector("[data-filter=occurred_after]");
const untilInput = form.querySelector("[data-filter=occurred_before]");
const sliderStart = document.getElementById("map-slider-start");
const sliderEnd = document.getElementById("map-slider-end");
const sliderText = document.getElementById("map-slider-text");
const months = monthCount();
for (const slider of [sliderStart, sliderEnd]) slider.max = String(months - 1);
function syncSliders() {
  sliderStart.value = String(fromInput.value ? monthIndex(fromInput.value) : 0);
  sliderEnd.value = String(untilInput.value ? monthIndex(untilInput.value) : months - 1);
  sliderText.textContent = `${monthStart(Number(sliderStart.value)).slice(0, 7)} → ${monthEnd(Number(sliderEnd.value)).slice(0, 7)}`;
}
function slid(event) {
  let start = Number(sliderStart.value);
  let end = Number(sliderEnd.value);
  if (start > end) {
    if (event.target === sliderStart) end = start;
    else start = end;
  }
  fromInput.value = monthStart(start);
  untilInput.value = monthEnd(end);
  syncSliders();
}
sliderStart.addEventListener("input", slid);
sliderEnd.addEventListener("input", slid);
// The typed dates move the sliders too (issue 22: the slider did not follow them).
for (const input of [fromInput, untilInput]) {
  input.addEventListener("input", syncSliders);
  input.addEventListener("change", syncSliders);
}
syncSliders();

// --- The view in the address bar, the export links ------------------------------------
function currentFilters() {
  return formFilters(form, polygon);
}
function checkedLayers() {
  return layerBoxes.filter((box) => box.checked).map((box) => box.value);
}
function currentRuns() {
  return Object.fromEntries(Object.entries(runSelects).map(([kind, select]) => [kind, select.value]));
}
function saveView() {
  const params = viewParams(currentFilters(), map, checkedLayers(), currentRuns());
  const address = `${window.location.pathname}?${params}`;
  window.history.replaceState(null, "", address);
  document.getElementById("map-share").href = address;
}
function exportLinks() {
  const filters = currentFilters();
  document.getElementById("map-export-csv").href = `${settings.urls.export_csv}?${filters}`;
  document.getElementById("map-export-geojson").href = `${settings.urls.export_geojson}?${filters}`;
}

let timer = null;
function refresh() {
  clearTimeout(timer);
  timer = setTimeout(async () => {
    saveView();
    exportLinks();
    if (map.hasLayer(incidents.group)) {
      count.textContent = text.textLoading;
      await incidents.load(currentFilters());
    }
    if (map.hasLayer(hits.group)) await hits.load(currentFilters());
  }, 150);
}
form.addEventListener("change", refresh);
form.addEventListener("reset", () => setTimeout(() => { syncSliders(); refresh(); }, 0));
map.on("moveend", refresh);

// --- Analyse this view ----------------------------------------------------------------
const startButton = document.getElementById("map-analyse-start");
if (startButton) {
  const progress = document.getElementById("map-analysis-progress");
  const state = document.getElementById("map-analysis-state");
  startButton.addEventListener("click", async () => {
    const kind = document.getElementById("map-analysis-kind").value;
    const params = currentFilters();
    const bounds = map.getBounds();
    if (!params.has("polygon")) {
      params.set("bbox", [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()]
        .map((value, index) => Math.max(index % 2 ? -90 : -180, Math.min(index % 2 ? 90 : 180, value)).toFixed(5)).join(","));
    }
    startButton.disabled = true;
    progress.hidden = false;
    progress.value = 0;
    state.textContent = text.textQueued;
    try {
      const run = await analyse({
        kind, params, urls: settings.urls, text,
        onProgress: (current) => {
          progress.value = current.progress ?? 0;
          state.textContent = `${current.state === "queued" ? text.textQueued : text.textRunning} · ${current.progress ?? 0} %`;
        },
      });
      const select = runSelects[kind];
      if (![...select.options].some((option) => option.value === String(run.id))) {
        select.add(new Option(`#${run.id}`, String(run.id)), 1);
      }
      select.value = String(run.id);
      await showRun(kind, { zoom: true });
      saveView();
      state.textContent = runLayers[kind]?.run?.result?.explanation?.headline ?? text.textDone;
    } catch (error) {
      state.textContent = `${text.textFailed} ${error.message}`;
    } finally {
      startButton.disabled = false;
    }
  });
}

// --- First render ---------------------------------------------------------------------
applyLayers();
const firstLoads = [incidents.load(currentFilters())];
if (references.countries) firstLoads.push(references.countries.ready);
if (hits.loading) firstLoads.push(hits.loading);
for (const kind of RUN_KINDS) if (runSelects[kind]?.value) firstLoads.push(showRun(kind));
saveView();
exportLinks();
Promise.all(firstLoads).finally(() => {
  // Read by the browser tests and the benchmark: the first view is complete.
  container.dataset.ready = String(Math.round(performance.now()));
});
