// A hot-spot result in its own words, above the legend: how many cells are significant, at
// which scale and why, and what to try when nothing is. The server writes the sentences in
// the reader's language; the legend counts the cells of each class and greys the empty ones.
import { counted } from "./counted.js";

export function showExplanation(legend, run, text) {
  const box = legend.querySelector("#map-hotspot-explanation");
  const explanation = run?.result?.explanation;
  box.hidden = !explanation;
  if (explanation) {
    box.querySelector("[data-headline]").textContent = explanation.headline;
    const next = box.querySelector("[data-next-step]");
    next.textContent = explanation.next_step;
    next.hidden = !explanation.next_step;
    box.querySelector("[data-details]").replaceChildren(...explanation.details.map((sentence) => {
      const item = document.createElement("li");
      item.textContent = sentence;
      return item;
    }));
  }
  const perClass = run?.result?.summary?.cells_per_class ?? {};
  for (const item of legend.querySelectorAll("li[data-class]")) {
    const cells = perClass[item.dataset.class] ?? 0;
    item.querySelector("[data-count]").textContent = run ? `(${counted(cells, text.textCellCount, text.textCellCounts)})` : "";
    item.classList.toggle("empty", Boolean(run) && cells === 0);
  }
}
