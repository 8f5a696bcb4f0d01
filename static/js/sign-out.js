// Signing out wipes this device's copy of the platform: the server answers with
// Clear-Site-Data, and the browser deletes the offline entry form's outbox, its service
// worker and its caches (organisations/views.py SignOutView). Records typed without a
// network and not sent yet would go with them, so the form asks first.
const form = document.querySelector("form[data-sign-out]");

// How many records wait in the outbox (static/js/offline-entry.js), without creating the
// database where there is none: opening it would make an empty one, without its store.
async function recordsWaiting() {
  if (!("indexedDB" in window) || !indexedDB.databases) return 0;
  const databases = await indexedDB.databases();
  if (!databases.some((database) => database.name === "armsmonitor-outbox")) return 0;
  return new Promise((resolve) => {
    const opening = indexedDB.open("armsmonitor-outbox");
    opening.onerror = () => resolve(0);
    opening.onsuccess = () => {
      const database = opening.result;
      if (!database.objectStoreNames.contains("records")) {
        database.close();
        resolve(0);
        return;
      }
      const counting = database.transaction("records").objectStore("records").count();
      counting.onsuccess = () => {
        database.close();
        resolve(counting.result);
      };
      counting.onerror = () => {
        database.close();
        resolve(0);
      };
    };
  });
}

if (form) {
  form.addEventListener("submit", async (event) => {
    if (form.dataset.confirmed) return;
    event.preventDefault();
    const waiting = await recordsWaiting();
    const question =
      waiting === 1
        ? form.dataset.waitingOne
        : form.dataset.waitingMany.replace("%(count)s", String(waiting));
    if (waiting === 0 || window.confirm(question)) {
      form.dataset.confirmed = "yes";
      form.requestSubmit();
    }
  });
}
