// Follows a report being generated and reloads the page to list its files once it ends.
const box = document.getElementById("report");
async function poll() {
  const response = await fetch(box.dataset.status, { credentials: "same-origin" });
  const report = await response.json();
  document.getElementById("report-state").textContent = report.state_label;
  document.getElementById("report-progress").value = report.progress;
  document.getElementById("report-progress-text").textContent = report.progress;
  document.getElementById("report-stage").textContent = report.stage;
  if (report.finished) window.location.reload();
  else setTimeout(poll, 1000);
}
if (box && box.dataset.finished !== "true") poll();
