// Follows a background job on its page (an analysis run, an import, a report): polls the
// job's status (armsmonitor/job_status.py, the same JSON for every kind), shows each value
// in the elements marked data-job-show="<key>", and once the job has ended reloads the page
// (or goes to data-job-finished-url) to show what it made.
const box = document.querySelector("[data-job-status]");

function show(element, value) {
  if (value === null || value === undefined) return; // a key this kind does not report
  if (element instanceof HTMLProgressElement) element.value = value;
  else element.textContent = typeof value === "number" ? value.toLocaleString() : value;
}

async function poll() {
  let status;
  try {
    const response = await fetch(box.dataset.jobStatus, { credentials: "same-origin" });
    if (!response.ok) return; // no longer readable (signed out): nothing more to show
    status = await response.json();
  } catch {
    setTimeout(poll, 5000); // the network or the server blinked: ask again later
    return;
  }
  for (const element of box.querySelectorAll("[data-job-show]")) {
    show(element, status[element.dataset.jobShow]);
  }
  if (!status.finished) setTimeout(poll, 1000);
  else if (box.dataset.jobFinishedUrl) window.location.assign(box.dataset.jobFinishedUrl);
  else window.location.reload();
}

if (box && box.dataset.jobFinished !== "true") poll();
