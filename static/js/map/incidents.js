// The incidents layer: for each viewport, counts per grid cell (low zooms) or the
// incidents themselves (high zooms), from the map data endpoint. Markers are focusable:
// Tab reaches them, Enter zooms into a cell or opens an incident's popup.
import { counted } from "./counted.js";

export class IncidentsLayer {
  constructor(map, urls, text, { onCount, onError }) {
    this.map = map;
    this.urls = urls;
    this.text = text;
    this.onCount = onCount;
    this.onError = onError;
    this.group = L.layerGroup();
    this.controller = null;
    // The data endpoint: a layer drawn the same way from another one sets its own.
    this.endpoint = urls.incidents;
  }

  async load(filters) {
    const bounds = this.map.getBounds();
    const clamp = (value, limit) => Math.max(-limit, Math.min(limit, value));
    const bbox = [
      clamp(bounds.getWest(), 180), clamp(bounds.getSouth(), 90),
      clamp(bounds.getEast(), 180), clamp(bounds.getNorth(), 90),
    ].map((value) => value.toFixed(5));
    const query = new URLSearchParams(filters);
    query.set("bbox", bbox.join(","));
    query.set("zoom", String(this.map.getZoom()));
    this.controller?.abort();
    this.controller = new AbortController();
    let response;
    try {
      response = await fetch(`${this.endpoint}?${query}`, { signal: this.controller.signal });
    } catch (error) {
      if (error.name === "AbortError") return false;
      throw error;
    }
    const body = await response.json();
    if (!response.ok) {
      this.onError(body.errors ?? {});
      return false;
    }
    this.draw(body);
    this.onCount(body.total, body.mode, body.source, body);
    return true;
  }

  draw(collection) {
    this.group.clearLayers();
    for (const feature of collection.features) {
      const [longitude, latitude] = feature.geometry.coordinates;
      const marker = collection.mode === "cells"
        ? this.cellMarker(latitude, longitude, feature.properties)
        : this.pointMarker(latitude, longitude, feature);
      this.group.addLayer(marker);
    }
  }

  cellMarker(latitude, longitude, { count, bounds }) {
    const size = Math.round(22 + 7 * Math.log10(count));
    const label = count >= 10000 ? `${Math.round(count / 1000)}k` : count >= 1000 ? `${(count / 1000).toFixed(1)}k` : String(count);
    const marker = L.marker([latitude, longitude], {
      icon: L.divIcon({ className: "map-cell", html: label, iconSize: [size, size] }),
      title: counted(count, this.text.textCellOne, this.text.textCell),
      keyboard: true,
    });
    marker.on("click", () => {
      const [west, south, east, north] = bounds;
      this.map.fitBounds([[south, west], [north, east]]);
    });
    return marker;
  }

  pointMarker(latitude, longitude, feature) {
    const { kind, occurred_at: day, exact } = feature.properties;
    const marker = L.marker([latitude, longitude], {
      icon: L.divIcon({ className: exact ? "map-point" : "map-point generalised", iconSize: [12, 12] }),
      title: `${this.urls.kinds[kind] ?? kind}, ${day}`,
      keyboard: true,
    });
    marker.bindPopup(() => this.popup(feature.id), { minWidth: 220 });
    return marker;
  }

  // The popup's content, filled in once the incident's facts arrive.
  popup(id) {
    const box = document.createElement("div");
    box.className = "map-popup";
    box.textContent = "…";
    fetch(this.urls.incident.replace(/0\.json$/, `${id}.json`))
      .then((response) => response.json())
      .then((facts) => {
        box.textContent = "";
        const title = document.createElement("strong");
        title.textContent = `#${facts.id} ${facts.kind} — ${facts.occurred_at}`;
        const list = document.createElement("dl");
        const rows = [
          [facts.labels.context, facts.context],
          [facts.labels.mission, `${facts.mission} · ${facts.contingent} · ${facts.country}`],
          [facts.labels.weapons, String(facts.weapons)],
          [facts.labels.state, facts.state],
        ];
        for (const [term, value] of rows) {
          const dt = document.createElement("dt");
          dt.textContent = term;
          const dd = document.createElement("dd");
          dd.textContent = value;
          list.append(dt, dd);
        }
        box.append(title, list);
        if (!facts.location_is_exact) {
          const note = document.createElement("p");
          note.textContent = facts.labels.generalised;
          box.append(note);
        }
        const link = document.createElement("a");
        link.href = facts.url;
        link.className = "map-popup-link";
        link.textContent = facts.labels.open;
        box.append(link);
        link.focus();
      })
      .catch(() => { box.textContent = "—"; });
    return box;
  }
}
