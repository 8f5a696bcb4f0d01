// The entry form's map: click to set the location, or type coordinates (decimal, DMS or
// MGRS) and see the point, its country and its nearest place. The map draws the
// platform's own country boundaries, so it works with no tile server.
const container = document.getElementById("point-picker");
const input = document.getElementById(container.dataset.input);
const placeLine = document.getElementById("point-picker-place");

const map = L.map(container, { center: [6.6, 20.9], zoom: 5 });
if (container.dataset.tiles) {
  L.tileLayer(container.dataset.tiles, { maxZoom: 18, attribution: "© OpenStreetMap" }).addTo(map);
}
fetch(container.dataset.boundaries)
  .then((response) => response.json())
  .then((countries) => L.geoJSON(countries, { style: { weight: 1, color: "#555", fillOpacity: 0.04 } }).addTo(map))
  .catch(() => {});

let marker = null;
function place(latitude, longitude) {
  if (marker) marker.setLatLng([latitude, longitude]);
  else marker = L.marker([latitude, longitude]).addTo(map);
}

async function locate() {
  const text = input.value.trim();
  if (!text) return;
  let response;
  try {
    response = await fetch(`${container.dataset.locate}?coordinates=${encodeURIComponent(text)}`);
  } catch {
    // No network (the offline form): the server checks the point when the record is sent.
    placeLine.textContent = container.dataset.textOffline;
    placeLine.classList.remove("error");
    return;
  }
  const answer = await response.json();
  if (!response.ok) {
    placeLine.textContent = answer.errors.coordinates.map((error) => error.message).join(" ");
    placeLine.classList.add("error");
    return;
  }
  placeLine.classList.remove("error");
  const { latitude, longitude } = answer.coordinates;
  place(latitude, longitude);
  map.panTo([latitude, longitude]);
  const near = answer.nearest_place
    ? ` — ${Math.round(answer.nearest_place.distance_m / 100) / 10} km from ${answer.nearest_place.name}`
    : "";
  placeLine.textContent = `${answer.country ?? answer.note}${near}`;
}

map.on("click", (event) => {
  input.value = `${event.latlng.lat.toFixed(6)}, ${event.latlng.lng.toFixed(6)}`;
  place(event.latlng.lat, event.latlng.lng);
  locate();
});
input.addEventListener("change", locate);
if (input.value) locate().then(() => marker && map.setView(marker.getLatLng(), 9));
