// Reference layers (country and admin boundaries, missions' and contingents' areas) and
// the result layers of analyses (hot spots, clusters, density heat, flow lines).
import { counted } from "./counted.js";

const SPOT_COLOURS = { 3: "#b2182b", 2: "#ef8a62", 1: "#fddbc7", 0: "#f7f7f7", "-1": "#d1e5f0", "-2": "#67a9cf", "-3": "#2166ac" };

async function json(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}

export function referenceLayer(name, urls, adminCountries) {
  const styles = {
    countries: { weight: 1, color: "#555", fillColor: "#fdfdf8", fillOpacity: 0.6 },
    admin: { weight: 1, color: "#888", dashArray: "3 3", fill: false },
    missions: { weight: 2, color: "#1a5fb4", fillOpacity: 0.05 },
    contingents: { weight: 2, color: "#26a269", dashArray: "6 4", fillOpacity: 0.05 },
  };
  const layer = L.geoJSON(null, {
    style: styles[name],
    interactive: name !== "countries" && name !== "admin",
    onEachFeature: (feature, item) => {
      const { acronym, name: title } = feature.properties;
      if (title) item.bindTooltip(acronym ? `${acronym} — ${title}` : title);
    },
  });
  const sources = {
    countries: [`${urls.countries}?zoom=5`],
    admin: adminCountries.map((code) => `${urls.admin_areas}?country=${code}&level=1&zoom=7`),
    missions: [`${urls.missions}?zoom=6`],
    contingents: [`${urls.contingents}?zoom=7`],
  }[name];
  layer.ready = Promise.all(
    sources.map((url) => json(url).then((collection) => layer.addData(collection)).catch(() => {})),
  );
  return layer;
}

// The result layer of analysis run `id` of `kind`; `text` holds the page's labels.
export async function analysisLayer(kind, id, urls, text) {
  const base = `${urls.analyses}/${id}`;
  if (kind === "hotspots") {
    // The run too: its result says what the hexagons show (explanation.js).
    const [cells, run] = await Promise.all([json(`${base}/cells.geojson`), json(base)]);
    const layer = L.geoJSON(cells, {
      style: (feature) => ({
        weight: 0.5, color: "#666", fillOpacity: 0.6,
        fillColor: SPOT_COLOURS[feature.properties.class] ?? SPOT_COLOURS[0],
      }),
      onEachFeature: (feature, item) => item.bindTooltip(
        `${feature.properties.count} · z ${Number(feature.properties.z_score).toFixed(2)}`,
      ),
    });
    layer.run = run;
    return layer;
  }
  if (kind === "clusters") {
    const clusters = await json(`${base}/clusters.geojson`);
    return L.geoJSON(clusters, {
      style: { weight: 2, color: "#6a3d9a", fillOpacity: 0.2 },
      onEachFeature: (feature, item) =>
        item.bindTooltip(counted(feature.properties.incidents, text.textClusterOne, text.textCluster)),
    });
  }
  const run = await json(base);
  if (kind === "density") {
    const peak = run.result.peak || 1;
    return L.heatLayer(run.result.points.map(([lat, lng, value]) => [lat, lng, value / peak]), {
      radius: 18, blur: 14, minOpacity: 0.25,
    });
  }
  return flowLines(run.result.lines ?? [], text);
}

// Flow lines, width by weapons: illicit origins established (solid, country of diversion to
// country of seizure) and routes through each country crossed (dashed). Where weapons were
// made is no movement and has no line. An arrowhead at the last stop shows the direction.
function flowLines(lines, text) {
  const group = L.featureGroup();
  const most = Math.max(1, ...lines.map((line) => line.items));
  for (const line of lines) {
    const points = line.geometry.coordinates.map(([lng, lat]) => [lat, lng]);
    const weight = 2 + 10 * (line.items / most);
    const isRoute = line.shows === "route";
    const path = L.polyline(points, {
      color: isRoute ? "#b35806" : "#08519c",
      weight,
      opacity: 0.75,
      dashArray: isRoute ? "8 6" : null,
    });
    const stops = [line.origin, ...(line.transit ?? []), line.destination].join(" → ");
    const what = isRoute
      ? (line.source === "documented" ? text.textRouteDocumented : text.textRouteTrace)
      : text.textOriginLine;
    path.bindTooltip(`${stops}: ${counted(line.items, text.textWeapon, text.textWeapons)} (${what})`);
    group.addLayer(path);
    const [from, to] = [points[points.length - 2], points[points.length - 1]];
    const angle = (Math.atan2(to[0] - from[0], to[1] - from[1]) * 180) / Math.PI;
    const arrow = L.marker(to, {
      icon: L.divIcon({ className: "map-arrow", html: "<span>➤</span>", iconSize: [18, 18] }),
      keyboard: false,
      interactive: false,
    });
    arrow.on("add", () => {
      // The inner glyph turns (Leaflet moves the marker's own element with a transform).
      // Screen y grows downwards: turn by minus the map angle.
      arrow.getElement().firstElementChild.style.transform = `rotate(${-angle}deg)`;
    });
    group.addLayer(arrow);
    // The origin named where its line starts.
    group.addLayer(
      L.marker(points[0], {
        icon: L.divIcon({ className: "flow-label", html: "", iconSize: null }),
        keyboard: false,
        interactive: false,
      }).on("add", (event) => { event.target.getElement().textContent = line.origin; }),
    );
  }
  const legend = flowLegend(most, text);
  group.on("add", () => legend.addTo(group._map));
  group.on("remove", () => legend.remove());
  return group;
}

// What the flow lines mean (issue 22: no width legend): solid for an illicit origin
// established, dashed for a route, and the weapons the widest line stands for.
function flowLegend(most, text) {
  const legend = L.control({ position: "bottomright" });
  legend.onAdd = () => {
    const box = L.DomUtil.create("div", "flow-legend");
    const rows = [
      ["flow-origin", text.textOriginLine],
      ["flow-route", `${text.textRouteDocumented} / ${text.textRouteTrace}`],
    ];
    for (const [style, label] of rows) {
      const row = L.DomUtil.create("div", "", box);
      L.DomUtil.create("span", `flow-swatch ${style}`, row);
      row.append(` ${label}`);
    }
    const widths = L.DomUtil.create("div", "", box);
    L.DomUtil.create("span", "flow-swatch flow-thin", widths);
    widths.append(` ${counted(1, text.textWeapon, text.textWeapons)} `);
    L.DomUtil.create("span", "flow-swatch flow-thick", widths);
    widths.append(` ${counted(most, text.textWeapon, text.textWeapons)}`);
    return box;
  };
  return legend;
}
