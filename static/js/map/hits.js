// The registry hits layer: the seizures of the view holding a registry hit still standing
// (new or confirmed), drawn as the incidents layer draws its points, each with its number
// of hits; its popup links to the seizure's hits. Nothing of the registry entries comes
// with them (geo/map/layers.py, hits_layer).
import { counted } from "./counted.js";
import { IncidentsLayer } from "./incidents.js";

export class HitsLayer extends IncidentsLayer {
  constructor(map, urls, text, handlers) {
    super(map, urls, text, handlers);
    this.endpoint = urls.hits;
  }

  pointMarker(latitude, longitude, feature) {
    const { hits, exact } = feature.properties;
    const marker = L.marker([latitude, longitude], {
      icon: L.divIcon({ className: exact ? "map-hit" : "map-hit generalised", html: String(hits), iconSize: [20, 20] }),
      title: counted(hits, this.text.textHitOne, this.text.textHits),
      keyboard: true,
      // Above the incidents' points at the same place.
      zIndexOffset: 500,
    });
    marker.bindPopup(() => this.hitsPopup(feature, hits, exact), { minWidth: 200 });
    return marker;
  }

  hitsPopup(feature, hits, exact) {
    const box = document.createElement("div");
    box.className = "map-popup";
    const title = document.createElement("strong");
    title.textContent = `#${feature.id}: ${counted(hits, this.text.textHitOne, this.text.textHits)}`;
    box.append(title);
    if (!exact) {
      const note = document.createElement("p");
      note.textContent = this.text.textGeneralised;
      box.append(note);
    }
    const link = document.createElement("a");
    // Every state: a confirmed hit is listed as well as a new one.
    link.href = `${this.urls.hit_list}?${new URLSearchParams({ incident: feature.id, state: "" })}`;
    link.className = "map-popup-link";
    link.textContent = this.text.textOpenHits;
    box.append(link);
    return box;
  }
}
