// The meetings page: upload (drag-and-drop or picker) or URL, and the live list.

import { ApiError, Feed, getJSON, request, upload } from "./api.js";
import { announce, append, h, showError } from "./dom.js";
import { badgeClass, bytes, clock, FINAL, statusLabel, when } from "./format.js";

const PAGE = 50;
const HINT = "Audio or video: mp3, m4a, wav, flac, ogg, webm, mp4…";

export function renderList(main) {
  document.title = "Meetings · Minuta";
  const rows = new Map(); // id -> {meeting, li}
  const list = h("ul", { class: "meetings", id: "meetings", "aria-describedby": "list-status" });
  const listStatus = h("p", { id: "list-status", class: "hint" }, "Loading…");
  const more = h("button", { type: "button", hidden: true }, "Show older meetings");
  let cursor = null, timer = 0;

  function row(m) {
    const title = m.title || "Untitled meeting";
    const badge = h("span", { class: badgeClass(m.status), "data-status": m.status }, statusLabel(m));
    return h("li", { "data-meeting-id": m.id },
      h("a", { href: `/ui/meetings/${encodeURIComponent(m.id)}`, "data-link": true, class: "title" }, title),
      badge,
      h("span", { class: "meta" }, when(m.created_at), m.duration_seconds ? ` · ${clock(m.duration_seconds)} of audio` : ""));
  }

  function put(m, announceChange = false) {
    const old = rows.get(m.id);
    const li = row(m);
    if (old) old.li.replaceWith(li); else list.append(li);
    if (announceChange && old && old.meeting.status !== m.status && FINAL.has(m.status)) {
      announce(`${m.title || "Meeting"}: ${statusLabel(m)}`);
    }
    rows.set(m.id, { meeting: m, li });
  }

  async function load(append = false) {
    const query = new URLSearchParams({ limit: String(PAGE) });
    if (append && cursor) query.set("cursor", cursor);
    try {
      const body = await getJSON(`/v1/meetings?${query}`);
      if (!append) {
        const fresh = new Set(body.items.map((m) => m.id));
        for (const [id, r] of rows) if (!fresh.has(id)) { r.li.remove(); rows.delete(id); }
      }
      // Newest first: re-append in server order so new meetings land on top.
      for (const m of body.items) put(m, true);
      if (!append) for (const m of body.items) list.append(rows.get(m.id).li);
      cursor = body.next_cursor;
      more.hidden = !cursor;
      listStatus.textContent = rows.size ? "" : "No meetings yet: upload a recording above.";
    } catch (e) {
      listStatus.textContent = `Could not load the meetings: ${e.message}`;
    }
  }

  function refreshSoon() {
    clearTimeout(timer);
    timer = setTimeout(() => load(false), 250);
  }

  function onEvent(event) {
    const r = rows.get(event.meeting_id);
    if (event.type === "transcript.segment") return;
    if (event.type === "stage.progress" && r) {
      const pct = event.data && typeof event.data.percent === "number" ? event.data.percent : r.meeting.progress;
      put({ ...r.meeting, status: event.status || r.meeting.status, progress: Math.max(pct, 0) });
      return;
    }
    refreshSoon(); // positions and ETAs of other meetings move too
  }

  more.addEventListener("click", () => load(true));
  const form = uploadForm((m) => { put(m); list.prepend(rows.get(m.id).li); listStatus.textContent = ""; refreshSoon(); });
  append(main,
    h("h1", {}, "Meetings"),
    form,
    h("section", { "aria-labelledby": "list-title" },
      h("h2", { id: "list-title" }, "Your meetings"), listStatus, list, more));
  const feed = new Feed("/v1/events", onEvent, { seqField: "tenant_seq", afterParam: "after_seq", after: null, onState: (s) => { if (s === "live") refreshSoon(); } });
  load(false);
  const periodic = setInterval(() => load(false), 30_000); // ETAs drift even without events
  return () => { feed.close(); clearInterval(periodic); clearTimeout(timer); };
}

function uploadForm(onAccepted) {
  const file = h("input", { type: "file", id: "file", name: "file", accept: "audio/*,video/*", class: "file-input" });
  const zone = h("div", { class: "dropzone", id: "dropzone" },
    h("p", {}, "Drop a recording here, or ", h("label", { for: "file", class: "pick" }, "choose a file")),
    file,
    h("p", { class: "hint", id: "chosen", "aria-live": "polite" }, HINT));
  const url = h("input", { type: "url", id: "source-url", name: "source_url", placeholder: "https://…/recording.mp3", inputmode: "url" });
  const title = h("input", { type: "text", id: "title", name: "title", maxlength: "500" });
  const language = h("select", { id: "language", name: "language" },
    h("option", { value: "" }, "Detect automatically"),
    ...["en", "de", "fr", "es", "it", "nl", "pt"].map((l) => h("option", { value: l }, l)));
  const bar = h("progress", { id: "upload-progress", max: "100", value: "0", "aria-label": "Upload progress" });
  const barText = h("span", { id: "upload-text", "aria-live": "polite" });
  const progressBox = h("div", { class: "upload-progress", hidden: true }, bar, barText);
  const cancel = h("button", { type: "button", hidden: true }, "Cancel upload");
  const submit = h("button", { type: "submit", class: "primary", id: "submit" }, "Submit");
  let chosen = null, running = null;

  function choose(f) {
    chosen = f;
    zone.querySelector("#chosen").textContent = f ? `Chosen: ${f.name} (${bytes(f.size)})` : HINT;
  }
  file.addEventListener("change", () => choose(file.files[0] || null));
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    if (e.dataTransfer.files.length) choose(e.dataTransfer.files[0]);
  });
  cancel.addEventListener("click", () => running && running.abort());

  const form = h("form", { class: "card", "aria-labelledby": "new-title", id: "upload-form" },
    h("h2", { id: "new-title" }, "New meeting"),
    zone,
    h("label", { for: "source-url" }, "…or the URL of a recording"), url,
    h("div", { class: "row" },
      h("div", {}, h("label", { for: "title" }, "Title (optional)"), title),
      h("div", {}, h("label", { for: "language" }, "Language"), language)),
    progressBox,
    h("div", { class: "actions" }, submit, cancel));

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const fields = { title: title.value.trim(), language: language.value };
    if (!chosen && !url.value.trim()) { showError("Choose a file or enter a URL first."); return; }
    submit.disabled = true;
    try {
      let meeting;
      if (chosen) {
        progressBox.hidden = false; cancel.hidden = false;
        running = upload(chosen, fields, (loaded, total) => {
          bar.value = total ? Math.round((loaded / total) * 100) : 0;
          barText.textContent = `${bytes(loaded)} of ${bytes(total)}`;
        });
        meeting = await running.promise;
      } else {
        const body = { source_url: url.value.trim(), ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v)) };
        meeting = await (await request("/v1/meetings", { method: "POST", json: body })).json();
      }
      announce(`Submitted: ${statusLabel(meeting)}`);
      onAccepted(meeting);
      form.reset(); choose(null);
    } catch (err) {
      showError(err instanceof ApiError ? `Not submitted: ${err.message}` : String(err));
    } finally {
      submit.disabled = false; running = null;
      progressBox.hidden = true; cancel.hidden = true; bar.value = 0; barText.textContent = "";
    }
  });
  return form;
}
