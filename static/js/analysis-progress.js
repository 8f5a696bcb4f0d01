// Follows a running analysis and reloads the page to show its result once it ends.
const box = document.getElementById("analysis-run");
async function poll() {
  const response = await fetch(box.dataset.status);
  const run = await response.json();
  document.getElementById("run-state").textContent = run.state_label;
  document.getElementById("run-progress").value = run.progress;
  document.getElementById("run-progress-text").textContent = run.progress;
  if (run.finished) window.location.reload();
  else setTimeout(poll, 1000);
}
poll();
