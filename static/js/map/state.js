// The whole view lives in the address bar — filters, drawn area, centre and zoom, layers
// and analysis runs shown — so that a copied link opens the same view.

export const LIST_FILTERS = ["kind", "category", "context", "mission", "contingent", "releasability"];
export const SINGLE_FILTERS = ["country", "region", "polygon", "occurred_after", "occurred_before"];
export const RUN_KINDS = ["hotspots", "clusters", "density", "flows"];
export const DEFAULT_LAYERS = ["incidents", "countries"];

// The filters of the form (and the drawn area) as query parameters, in the filterset's names.
export function formFilters(form, polygon) {
  const params = new URLSearchParams();
  for (const name of LIST_FILTERS) {
    for (const option of form.elements[name].selectedOptions) params.append(name, option.value);
  }
  for (const name of ["country", "region"]) {
    const value = form.elements[name].value.trim();
    if (value) params.set(name, name === "country" ? value.toUpperCase() : value);
  }
  const from = form.querySelector("[data-filter=occurred_after]").value;
  const until = form.querySelector("[data-filter=occurred_before]").value;
  if (from) params.set("occurred_after", `${from}T00:00:00Z`);
  // The whole last day: a range ending on a month's last day is answered from the
  // counts the database keeps per month.
  if (until) params.set("occurred_before", `${until}T23:59:59Z`);
  if (polygon) params.set("polygon", polygon);
  return params;
}

// Fill the form from query parameters (a shared link); returns the drawn area, if any.
export function restoreForm(form, params) {
  for (const name of LIST_FILTERS) {
    const chosen = new Set(params.getAll(name));
    for (const option of form.elements[name].options) option.selected = chosen.has(option.value);
  }
  for (const name of ["country", "region"]) form.elements[name].value = params.get(name) ?? "";
  form.querySelector("[data-filter=occurred_after]").value = (params.get("occurred_after") ?? "").slice(0, 10);
  form.querySelector("[data-filter=occurred_before]").value = (params.get("occurred_before") ?? "").slice(0, 10);
  return params.get("polygon");
}

export function readView(params, fallback) {
  const centre = (params.get("c") ?? "").split(",").map(Number);
  const zoom = Number(params.get("z"));
  const layers = params.has("layers") ? params.get("layers").split(",").filter(Boolean) : DEFAULT_LAYERS;
  const runs = Object.fromEntries(RUN_KINDS.map((kind) => [kind, params.get(kind) ?? ""]));
  return {
    centre: centre.length === 2 && centre.every(Number.isFinite) ? centre : fallback.center,
    zoom: params.has("z") && Number.isInteger(zoom) && zoom >= 0 && zoom <= 20 ? zoom : fallback.zoom,
    layers,
    runs,
  };
}

export function viewParams(filters, map, layers, runs) {
  const params = new URLSearchParams(filters);
  const centre = map.getCenter();
  params.set("c", `${centre.lat.toFixed(5)},${centre.lng.toFixed(5)}`);
  params.set("z", String(map.getZoom()));
  params.set("layers", layers.join(","));
  for (const [kind, run] of Object.entries(runs)) if (run) params.set(kind, run);
  return params;
}

// Months for the time slider: index 0 is January 2010, the last is the current month.
const FIRST_YEAR = 2010;
export function monthCount() {
  const now = new Date();
  return (now.getUTCFullYear() - FIRST_YEAR) * 12 + now.getUTCMonth() + 1;
}
export function monthStart(index) {
  return new Date(Date.UTC(FIRST_YEAR, index, 1)).toISOString().slice(0, 10);
}
export function monthEnd(index) {
  return new Date(Date.UTC(FIRST_YEAR, index + 1, 0)).toISOString().slice(0, 10);
}
export function monthIndex(isoDate) {
  const [year, month] = isoDate.split("-").map(Number);
  return (year - FIRST_YEAR) * 12 + month - 1;
}
