// The admin page: the backlog per stage, the workers consuming each queue, dead letters.

import { getJSON, request } from "./api.js";
import { announce, append, clear, h, showError } from "./dom.js";
import { when } from "./format.js";

function cell(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** A table of objects: the given columns, or every key the rows have. */
function table(caption, rows, columns, extra) {
  if (!rows || !rows.length) return h("p", { class: "hint" }, `${caption}: none.`);
  const cols = columns || [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption },
    h("table", {},
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, ...cols.map((c) => h("th", { scope: "col" }, c.replaceAll("_", " "))), extra ? h("th", { scope: "col" }, "action") : null)),
      h("tbody", {}, ...rows.map((r) => h("tr", {}, ...cols.map((c) => h("td", {}, c.endsWith("_at") ? when(r[c]) : cell(r[c]))), extra ? h("td", {}, extra(r)) : null)))));
}

export function renderAdmin(main) {
  document.title = "Admin · Minuta";
  const queueBox = h("div", { id: "queue" }, h("p", { class: "hint" }, "Loading…"));
  const workersBox = h("div", { id: "workers" });
  const deadBox = h("div", { id: "dead-letters" });

  async function requeue(dl) {
    try {
      await request(`/v1/admin/dead-letters/${encodeURIComponent(dl.id)}/requeue`, { method: "POST" });
      announce("Message re-queued");
      load();
    } catch (e) { showError(`Re-queue failed: ${e.message}`); }
  }

  async function load() {
    try {
      const queue = await getJSON("/v1/queue");
      const stages = queue.stages || [];
      clear(queueBox).append(table("Backlog per stage", stages,
        ["stage", "backlog", "in_flight", "audio_seconds_ahead", "oldest_queued_seconds", "estimated_wait_seconds"]));
      if (queue.degraded) {
        queueBox.append(h("ul", { class: "error" }, ...Object.entries(queue.problems || {}).map(([k, v]) => h("li", {}, `${k}: ${v}`))));
      }
      clear(workersBox).append(table("Workers consuming each stage's queue", stages.map((st) => ({
        stage: st.stage, consumers: st.consumers ?? "unknown (broker unreachable)", busy: st.in_flight,
      }))));
    } catch (e) { clear(queueBox).append(h("p", { class: "error" }, `The queue could not be loaded: ${e.message}`)); }
    try {
      const dead = await getJSON("/v1/admin/dead-letters");
      clear(deadBox).append(table("Dead letters", dead.items || [],
        ["received_at", "stage", "meeting_id", "reason", "routing_key", "requeued_at"],
        (r) => (r.requeued_at ? "re-queued" : h("button", { type: "button", onclick: () => requeue(r), "aria-label": `Re-queue dead letter ${r.id}` }, "Re-queue"))));
    } catch (e) { clear(deadBox).append(h("p", { class: "error" }, `The dead letters could not be loaded: ${e.message}`)); }
  }

  append(main,
    h("h1", {}, "Admin"),
    h("section", { class: "card", "aria-labelledby": "queue-title" }, h("h2", { id: "queue-title" }, "Queue"), queueBox),
    h("section", { class: "card", "aria-labelledby": "workers-title" }, h("h2", { id: "workers-title" }, "Workers"), workersBox),
    h("section", { class: "card", "aria-labelledby": "dead-title" }, h("h2", { id: "dead-title" }, "Dead letters"), deadBox),
    h("button", { type: "button", onclick: load }, "Refresh"));
  load();
  const timer = setInterval(load, 10_000);
  return () => clearInterval(timer);
}
