// Polls the import job until it finishes, then reloads the page to show its report.
const box = document.getElementById("import-job");
async function poll() {
  const response = await fetch(box.dataset.status);
  const job = await response.json();
  document.getElementById("job-state").textContent = job.state_label;
  document.getElementById("job-rows").textContent = job.rows_checked.toLocaleString();
  if (job.finished) window.location.reload();
  else setTimeout(poll, 1000);
}
poll();
