// One meeting: live status, audio player, transcript (live, then final), minutes, actions.

import { ApiError, Feed, download, getJSON, meetingPath, request } from "./api.js";
import { announce, append, clear, go, h, showError } from "./dom.js";
import { badgeClass, clock, FINAL, statusLabel, when } from "./format.js";
import { highlightAt, renderMinutes, renderTranscript, segmentItem, SpeakerColours } from "./transcript.js";

const TEMPLATES = ["default", "standup", "one-on-one", "interview", "sales-call"];
const TRANSCRIPT_FORMATS = [["srt", "SRT"], ["vtt", "WebVTT"], ["txt", "Text"], ["json", "JSON"]];

export function renderMeeting(main, id) {
  const colours = new SpeakerColours();
  const s = { meeting: null, transcriptFinal: false, minutesLoaded: false, audioUrl: null, feed: null, timer: 0 };
  const title = h("h1", { id: "meeting-title" }, "Meeting");
  const badge = h("span", { class: "badge", id: "status", role: "status", "aria-live": "polite" }, "Loading…");
  const meta = h("p", { class: "meta" });
  const errorBox = h("div", { class: "error-box", role: "alert", hidden: true });
  const actions = h("div", { class: "actions", id: "actions" });
  const downloads = h("div", { class: "downloads", id: "downloads", role: "group", "aria-label": "Downloads" });
  const audio = h("audio", { id: "player", controls: true, preload: "auto", "aria-label": "Meeting audio" });
  const audioNote = h("p", { class: "hint" }, "The audio is available once the recording is processed.");
  const minutesBox = h("div", { id: "minutes" }, h("p", { class: "hint" }, "Minutes appear when the meeting is summarized."));
  const segments = h("ol", { class: "transcript", id: "transcript", "aria-live": "off" });
  const transcriptNote = h("p", { class: "hint", id: "transcript-note" }, "The transcript appears here while it is produced.");
  const speakersBox = h("div", { id: "speakers" });

  function names() {
    return (s.meeting && s.meeting.speaker_names) || {};
  }

  function seek(seconds) {
    const apply = () => {
      audio.currentTime = seconds;
      highlightAt(segments, seconds, true);
      audio.play().catch(() => { /* no audio output or autoplay refused: the seek stands */ });
    };
    if (!audio.src) { showError("The audio is not available yet."); return; }
    if (audio.readyState === 0) audio.addEventListener("loadedmetadata", apply, { once: true }); else apply();
  }

  async function loadAudio() {
    if (s.audioUrl || !s.meeting.available.audio) return;
    try {
      // <audio> cannot send the Authorization header: fetch with the key, play a blob URL.
      const blob = await (await request(meetingPath(id, "/audio?kind=normalized"))).blob();
      s.audioUrl = URL.createObjectURL(blob);
      audio.src = s.audioUrl;
      audioNote.hidden = true;
    } catch (e) { audioNote.textContent = `The audio could not be loaded: ${e.message}`; }
  }

  async function loadTranscript() {
    if (!s.meeting.available.transcript) return;
    try {
      const t = await getJSON(meetingPath(id, "/transcript?format=json"));
      s.transcriptFinal = true;
      renderTranscript(segments, t, names(), colours, seek);
      transcriptNote.textContent = segments.children.length ? "" : "No speech was recognised in this recording.";
      renderSpeakers();
    } catch (e) { transcriptNote.textContent = `The transcript could not be loaded: ${e.message}`; }
  }

  async function loadMinutes() {
    if (!s.meeting.available.minutes) return;
    try {
      renderMinutes(minutesBox, await getJSON(meetingPath(id, "/minutes?format=json")), names(), seek);
      s.minutesLoaded = true;
    } catch (e) { clear(minutesBox).append(h("p", {}, `The minutes could not be loaded: ${e.message}`)); }
  }

  function showStatus() {
    const m = s.meeting;
    document.title = `${m.title || "Meeting"} · Minuta`;
    title.textContent = m.title || "Untitled meeting";
    badge.className = badgeClass(m.status);
    badge.dataset.status = m.status;
    badge.textContent = statusLabel(m);
    meta.textContent = [when(m.created_at), m.duration_seconds ? `${clock(m.duration_seconds)} of audio` : "", m.language ? `language ${m.language}` : ""].filter(Boolean).join(" · ");
    errorBox.hidden = !m.error;
    if (m.error) errorBox.textContent = `Failed${m.error.stage ? ` in ${m.error.stage}` : ""}: ${m.error.reason}`;
    renderActions();
    renderDownloads();
  }

  async function refresh() {
    try {
      const previous = s.meeting;
      s.meeting = await getJSON(meetingPath(id));
      showStatus();
      if (previous && previous.status !== s.meeting.status) announce(statusLabel(s.meeting));
      await loadAudio();
      if (!s.transcriptFinal) await loadTranscript();
      if (!s.minutesLoaded) await loadMinutes();
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) notFound();
      else showError(`Could not refresh the meeting: ${e.message}`);
    }
  }

  function refreshSoon() {
    clearTimeout(s.timer);
    s.timer = setTimeout(refresh, 200);
  }

  function onEvent(event) {
    if (!s.meeting) return;
    if (event.type === "transcript.segment") {
      if (!s.transcriptFinal && event.data && event.data.segment) {
        transcriptNote.textContent = "Transcribing… new lines appear as they are recognised.";
        segments.append(segmentItem(event.data.segment, names(), colours, seek));
      }
      return;
    }
    if (event.type === "stage.progress") {
      s.meeting = { ...s.meeting, status: event.status || s.meeting.status, progress: (event.data && event.data.percent) || s.meeting.progress };
      showStatus();
      return;
    }
    if (event.type === "transcript.completed" || (event.type === "stage.queued" && event.stage === "transcribe")) s.transcriptFinal = false;
    if (event.type === "minutes.completed" || (event.type === "stage.queued" && event.stage === "summarize")) s.minutesLoaded = false;
    if (event.type === "stage.queued" && event.stage === "transcribe") clear(segments);
    refreshSoon();
  }

  async function act(label, path, json) {
    try {
      s.meeting = await (await request(meetingPath(id, path), { method: "POST", json })).json();
      announce(`${label}: ${statusLabel(s.meeting)}`);
      showStatus();
    } catch (e) { showError(`${label} failed: ${e.message}`); }
  }

  function renderActions() {
    const m = s.meeting;
    clear(actions);
    if (!FINAL.has(m.status)) actions.append(h("button", { type: "button", id: "cancel", onclick: () => act("Cancel", "/cancel") }, "Cancel"));
    if (m.status === "failed") actions.append(h("button", { type: "button", id: "retry", onclick: () => act("Retry", "/retry") }, "Retry"));
    if (m.available.transcript && (m.status === "completed" || m.status === "failed")) {
      const select = h("select", { id: "template", "aria-label": "Minutes template" }, ...TEMPLATES.map((t) => h("option", { value: t }, t)));
      select.value = (m.options && m.options.template) || "default";
      actions.append(h("span", { class: "inline" }, select,
        h("button", { type: "button", id: "resummarize", onclick: () => { s.minutesLoaded = false; act("Re-summarize", "/rerun", { stage: "summarize", template: select.value }); } }, "Summarize again")));
    }
    actions.append(h("button", { type: "button", class: "danger", id: "delete", onclick: remove }, "Delete"));
  }

  async function remove() {
    if (!window.confirm("Delete this meeting, its audio, transcript and minutes?")) return;
    try {
      await request(meetingPath(id), { method: "DELETE" });
      announce("Meeting deleted");
      go("/ui/");
    } catch (e) { showError(`Delete failed: ${e.message}`); }
  }

  function renderDownloads() {
    const m = s.meeting;
    clear(downloads);
    const button = (label, path, file, enabled) => h("button", {
      type: "button", disabled: !enabled, "data-download": file.split(".").pop(),
      onclick: () => download(meetingPath(id, path), file).catch((e) => showError(`Download failed: ${e.message}`)),
    }, label);
    for (const [fmt, label] of TRANSCRIPT_FORMATS) {
      downloads.append(button(`Transcript (${label})`, `/transcript?format=${fmt}`, `transcript-${id}.${fmt}`, m.available.transcript));
    }
    downloads.append(button("Minutes (Markdown)", "/minutes?format=md", `minutes-${id}.md`, m.available.minutes));
    downloads.append(button("Minutes (JSON)", "/minutes?format=json", `minutes-${id}.json`, m.available.minutes));
  }

  function renderSpeakers() {
    clear(speakersBox);
    const labels = [...new Set([...(s.meeting.speakers || []), ...Object.keys(names())])];
    if (!labels.length) return;
    const inputs = labels.map((label) => h("input", { type: "text", id: `speaker-${label}`, "data-label": label, value: names()[label] || "", placeholder: label, maxlength: "200" }));
    const form = h("form", { class: "speakers", "aria-labelledby": "speakers-title" },
      h("h3", { id: "speakers-title" }, "Speaker names"),
      ...labels.map((label, i) => h("div", { class: "field" },
        h("label", { for: `speaker-${label}`, class: `speaker ${colours.of(label)}` }, label), inputs[i])),
      h("button", { type: "submit" }, "Save names"));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = Object.fromEntries(inputs.map((i) => [i.dataset.label, i.value.trim()]));
      try {
        s.meeting = await (await request(meetingPath(id, "/speakers"), { method: "PATCH", json: body })).json();
        s.transcriptFinal = false; s.minutesLoaded = false;
        await refresh();
        announce("Speaker names saved");
      } catch (err) { showError(`Renaming failed: ${err.message}`); }
    });
    speakersBox.append(form);
  }

  function notFound() {
    clear(main).append(h("h1", {}, "Meeting not found"), h("p", {}, "It may have been deleted. ", h("a", { href: "/ui/", "data-link": true }, "Back to the meetings")));
  }

  audio.addEventListener("timeupdate", () => highlightAt(segments, audio.currentTime, !audio.paused));
  append(main,
    h("p", { class: "crumbs" }, h("a", { href: "/ui/", "data-link": true }, "← Meetings")),
    h("div", { class: "heading" }, title, badge), meta, errorBox, actions,
    h("section", { class: "player card", "aria-label": "Audio" }, audio, audioNote),
    h("div", { class: "columns" },
      h("section", { class: "card", "aria-labelledby": "minutes-title" }, h("h2", { id: "minutes-title" }, "Minutes"), minutesBox),
      h("section", { class: "card", "aria-labelledby": "transcript-title" }, h("h2", { id: "transcript-title" }, "Transcript"), transcriptNote, segments, speakersBox)),
    h("section", { class: "card", "aria-labelledby": "downloads-title" }, h("h2", { id: "downloads-title" }, "Downloads"), downloads));

  let closed = false;
  (async () => {
    await refresh();
    if (!s.meeting || closed) return;
    // A finished transcript needs no replay of its live segments: start from the present.
    const after = s.transcriptFinal ? s.meeting.last_seq || 0 : 0;
    s.feed = new Feed(meetingPath(id, "/events"), onEvent, { after, onState: (st) => { if (st === "live") refreshSoon(); } });
  })();
  return () => {
    closed = true;
    if (s.feed) s.feed.close();
    clearTimeout(s.timer);
    audio.pause();
    if (s.audioUrl) URL.revokeObjectURL(s.audioUrl);
  };
}
