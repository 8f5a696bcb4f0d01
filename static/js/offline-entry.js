// The entry form without a network (issue 21). Each record sent gets a key of its own (the
// form's `submission`, a UUID) that it keeps for every retry: the server writes a record
// once per key (incidents/views.py `_submission_claim`), so a retry after a lost answer
// never makes a second one. When the network is gone, or drops at "Save", the record and
// its photos wait in this device's outbox (IndexedDB, through idb from npm), listed as
// "waiting to send", and go as soon as the network returns (or the page is opened again).
import { openDB } from "../vendor/idb/index.js";

const form = document.querySelector("form.entry[data-offline]");
const outbox = document.getElementById("outbox");
const text = outbox.dataset;
const records = openDB("armsmonitor-outbox", 1, {
  upgrade(database) {
    database.createObjectStore("records", { keyPath: "submission" });
  },
});

if ("serviceWorker" in navigator) {
  // Offline, the worker already installed stays; a failed check for a newer one is no error.
  navigator.serviceWorker.register(form.dataset.serviceWorker, { scope: "/" }).catch(() => {});
}

// Sends one record. "kept": the server wrote it (or had, under the same key) and gives its
// page; "signed-out": the session ended, the record waits for a sign-in; "refused": the
// server has something to correct (the page it answered shows what).
async function send(fields) {
  const body = new FormData();
  for (const [name, value] of fields) body.append(name, value);
  // The token of this page: the one the record was typed with may be older than a sign-in.
  body.set("csrfmiddlewaretoken", form.elements.csrfmiddlewaretoken.value);
  // (Not form.action: the buttons named "action" shadow it.)
  const response = await fetch(form.getAttribute("action"), {
    method: "POST",
    body,
    credentials: "same-origin",
    headers: { "X-Entry-Form": "script" },
  });
  if (response.status === 201) return { outcome: "kept", record: (await response.json()).record };
  if (response.redirected && new URL(response.url).pathname.startsWith(form.dataset.signIn)) {
    return { outcome: "signed-out" };
  }
  return { outcome: "refused" };
}

async function keep(fields, state) {
  await (await records).put("records", {
    submission: form.elements.submission.value,
    fields,
    savedAt: Date.now(),
    summary: form.elements.narrative?.value.slice(0, 80),
    state,
  });
}

async function sendWaiting() {
  const database = await records;
  for (const record of await database.getAll("records")) {
    let result;
    try {
      result = await send(record.fields);
    } catch {
      break; // still no network
    }
    if (result.outcome === "kept") {
      await database.delete("records", record.submission);
    } else {
      await database.put("records", { ...record, state: result.outcome });
      if (result.outcome === "signed-out") break;
    }
  }
  await showWaiting();
}

async function showWaiting() {
  const waiting = await (await records).getAll("records");
  outbox.hidden = waiting.length === 0;
  const list = outbox.querySelector("ul");
  list.replaceChildren(
    ...waiting.map((record) => {
      const item = document.createElement("li");
      const when = new Date(record.savedAt).toLocaleString();
      const state = {
        refused: text.textRefused,
        "signed-out": text.textSignedOut,
      }[record.state] ?? text.textWaiting;
      item.textContent = `${when}: ${record.summary || "—"} (${state}) `;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = text.textRemove;
      remove.addEventListener("click", async () => {
        if (!window.confirm(text.textRemoveConfirm)) return;
        await (await records).delete("records", record.submission);
        await showWaiting();
      });
      item.append(remove);
      return item;
    }),
  );
  outbox.querySelector("[data-count]").textContent = String(waiting.length);
}

form.addEventListener("submit", async (event) => {
  if (form.dataset.native === "true") return;
  event.preventDefault();
  form.elements.submission.value ||= crypto.randomUUID();
  const fields = [...new FormData(form, event.submitter).entries()];
  let result;
  try {
    result = await send(fields);
  } catch {
    result = { outcome: "no-network" };
  }
  if (result.outcome === "kept") {
    window.location.assign(result.record);
    return;
  }
  if (result.outcome === "refused") {
    // Not saved: the form has something to correct. Sent the ordinary way, with the same
    // key, it comes back with the errors under their fields.
    form.dataset.native = "true";
    form.requestSubmit(event.submitter);
    return;
  }
  // No network, it dropped, or the session ended: the record waits on this device.
  await keep(fields, result.outcome === "signed-out" ? "signed-out" : "waiting");
  form.reset();
  form.elements.submission.value = "";
  document.getElementById("outbox-message").textContent =
    result.outcome === "signed-out" ? text.textSignIn : text.textKept;
  await showWaiting();
  window.scrollTo(0, 0);
});

window.addEventListener("online", sendWaiting);
sendWaiting();
