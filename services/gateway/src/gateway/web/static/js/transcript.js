// Rendering of the transcript (live and final) and the minutes, linked to the audio player.

import { append, clear, h } from "./dom.js";
import { clock } from "./format.js";

const PALETTE = 8;

/** A stable colour slot per speaker label, in order of first appearance. */
export class SpeakerColours {
  constructor() { this.slots = new Map(); }
  of(label) {
    if (!label) return "spk-none";
    if (!this.slots.has(label)) this.slots.set(label, this.slots.size % PALETTE);
    return `spk-${this.slots.get(label)}`;
  }
}

function timeButton(seconds, seek, text = clock(seconds)) {
  return h("button", {
    type: "button", class: "time", "data-seek": seconds.toFixed(3),
    "aria-label": `Play from ${clock(seconds)}`, onclick: () => seek(seconds),
  }, text);
}

/** One transcript line: timestamp (seeks), speaker chip, text. */
export function segmentItem(seg, names, colours, seek) {
  const who = seg.speaker ? (names[seg.speaker] || seg.speaker) : null;
  return h("li", { class: "segment", "data-start": seg.start, "data-end": seg.end },
    timeButton(seg.start, seek),
    who ? h("span", { class: `speaker ${colours.of(seg.speaker)}` }, who) : null,
    h("span", { class: "text" }, seg.text.trim()));
}

export function renderTranscript(list, transcript, names, colours, seek) {
  clear(list);
  for (const seg of transcript.segments || []) {
    if (seg.text && seg.text.trim()) list.append(segmentItem(seg, names, colours, seek));
  }
}

/** Mark the segment under the play head (and keep it in view while playing). */
export function highlightAt(list, seconds, follow) {
  let current = null;
  for (const li of list.children) {
    const start = Number(li.dataset.start), end = Number(li.dataset.end);
    const on = seconds >= start && seconds < Math.max(end, start + 0.5);
    li.classList.toggle("current", on);
    if (on && !current) current = li;
  }
  if (current && follow) current.scrollIntoView({ block: "nearest" });
}

function cites(citations, seek) {
  if (!citations || !citations.length) return null;
  return h("span", { class: "cites" }, " ",
    ...citations.map((c) => timeButton(c, seek, `[${clock(c)}]`)));
}

function itemList(title, items, render) {
  if (!items || !items.length) return null;
  return h("section", {}, h("h3", {}, title), h("ul", {}, ...items.map((it) => h("li", {}, ...render(it)))));
}

/** The minutes: summary, key points, decisions, action items, questions, chapters. */
export function renderMinutes(box, m, names, seek) {
  clear(box);
  const who = (label) => (label ? names[label] || label : "");
  append(box,
    m.summary ? h("section", {}, h("h3", {}, "Summary"), h("p", {}, m.summary, cites(m.summary_citations, seek))) : null,
    itemList("Key points", m.key_points, (k) => [k.text, cites(k.citations, seek)]),
    itemList("Decisions", m.decisions, (d) => [d.text, d.decided_by ? ` — ${who(d.decided_by)}` : "", cites(d.citations, seek)]),
    itemList("Action items", m.action_items, (a) => [
      a.task, a.owner ? h("strong", {}, ` — ${who(a.owner)}`) : "", a.due ? ` (due ${a.due})` : "", cites(a.citations, seek)]),
    itemList("Open questions", m.open_questions, (q) => [q.text, cites(q.citations, seek)]),
    itemList("Chapters", m.chapters, (c) => [timeButton(c.start, seek), " ", c.title]),
    h("p", { class: "hint" }, `Minutes by the ${m.engine || "unknown"} engine${m.model ? ` (${m.model})` : ""}, template ${m.template || "default"}.`));
  if (!box.children.length || box.children.length === 1) {
    box.prepend(h("p", {}, "The minutes are empty (the recording had too little speech to summarize)."));
  }
}
