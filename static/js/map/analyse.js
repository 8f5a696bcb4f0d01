// "Analyse this view": start an analysis on the current filters and viewport through the
// API, follow its progress, then hand its run to the page to draw its layer.

function csrfToken() {
  return document.querySelector("[name=csrfmiddlewaretoken]")?.value ?? "";
}

// The filter as the API takes it: each name with a string or a list of strings.
function apiFilter(params) {
  const filter = {};
  for (const name of new Set(params.keys())) {
    const values = params.getAll(name);
    filter[name] = values.length === 1 ? values[0] : values;
  }
  return filter;
}

export async function analyse({ kind, params, urls, text, onProgress }) {
  const response = await fetch(urls.analyses, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify({ kind, parameters: {}, filter: apiFilter(params) }),
    credentials: "same-origin",
  });
  let run = await response.json();
  if (!response.ok) {
    const reason = Object.entries(run).map(([field, errors]) => `${field}: ${[].concat(errors).join(" ")}`);
    throw new Error(reason.join("; "));
  }
  while (!["done", "failed", "cancelled"].includes(run.state)) {
    onProgress(run);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    run = await (await fetch(`${urls.analyses}/${run.id}`)).json();
  }
  onProgress(run);
  if (run.state !== "done") throw new Error(run.error || run.state);
  return run;
}
