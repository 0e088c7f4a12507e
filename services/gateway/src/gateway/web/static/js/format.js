// Formatting shared by the pages; mirrors the CLI's labels ("Queued #2 · ~10 min").

export const FINAL = new Set(["completed", "failed", "cancelled"]);
const RUNNING = { ingesting: "Ingesting", transcribing: "Transcribing", summarizing: "Summarizing" };

export function eta(seconds) {
  if (seconds === null || seconds === undefined || seconds < 0) return "";
  const minutes = Math.round(seconds / 60);
  if (minutes < 1) return "<1 min";
  if (minutes < 60) return `~${minutes} min`;
  const hours = Math.floor(minutes / 60), rest = minutes % 60;
  return `~${hours} h` + (rest ? ` ${rest} min` : "");
}

export function clock(seconds) {
  const total = Math.max(0, Math.floor(seconds || 0));
  const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
  const mm = h ? String(m).padStart(2, "0") : String(m);
  return (h ? `${h}:` : "") + `${mm}:${String(s).padStart(2, "0")}`;
}

export function statusLabel(m) {
  const status = m.status || "unknown";
  if (status === "queued") {
    let label = "Queued";
    if (m.queue_position > 0) label += ` #${m.queue_position}`;
    const e = eta(m.eta_seconds);
    return e ? `${label} · ${e}` : label;
  }
  if (RUNNING[status]) {
    const pct = Math.round(m.progress || 0);
    return RUNNING[status] + (pct > 0 ? ` ${pct}%` : "");
  }
  if (status === "failed") return "Failed" + (m.error && m.error.stage ? ` in ${m.error.stage}` : "");
  return status.charAt(0).toUpperCase() + status.slice(1);
}

export function badgeClass(status) {
  if (status === "completed") return "badge ok";
  if (status === "failed") return "badge bad";
  if (status === "cancelled") return "badge muted";
  if (status === "queued") return "badge wait";
  return "badge run";
}

export function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function bytes(n) {
  if (!n && n !== 0) return "";
  const units = ["B", "KB", "MB", "GB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}
