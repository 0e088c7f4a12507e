// Entry point: sign-in, navigation between pages (History API), page lifecycle.

import { ApiError, getJSON, onUnauthorized, session } from "./api.js";
import { clear, h, showError } from "./dom.js";
import { renderList } from "./list.js";
import { renderMeeting } from "./meeting.js";
import { renderAdmin } from "./admin.js";

const main = document.getElementById("main");
let cleanup = () => {};
let me = { admin: false };
let signingIn = false; // a refused key while signing in is reported on the form, not as a sign-out

const routes = [
  [/^\/(?:ui\/?)?$/, () => renderList(main)],
  [/^\/ui\/meetings\/([^/]+)\/?$/, (m) => renderMeeting(main, decodeURIComponent(m[1]))],
  [/^\/ui\/admin\/?$/, () => renderAdmin(main)],
];

export function navigate(path) {
  history.pushState({}, "", path);
  route();
}

function route() {
  cleanup();
  cleanup = () => {};
  clear(main);
  if (!session.key) {
    renderSignIn();
    return;
  }
  document.getElementById("nav").hidden = false;
  document.getElementById("nav-admin").hidden = !me.admin;
  for (const [pattern, render] of routes) {
    const match = location.pathname.match(pattern);
    if (match) {
      cleanup = render(match) || (() => {});
      main.focus({ preventScroll: true });
      return;
    }
  }
  document.title = "Not found · Minuta";
  main.append(h("h1", {}, "Page not found"), h("p", {}, h("a", { href: "/ui/", "data-link": true }, "Back to the meetings")));
}

async function checkKey(key) {
  session.set(key);
  signingIn = true;
  try {
    // Any authenticated read proves the key; the admin queue tells whether it is an admin key.
    await getJSON("/v1/meetings?limit=1");
  } catch (e) {
    session.clear();
    signingIn = false;
    throw e;
  }
  try {
    await getJSON("/v1/admin/dead-letters?limit=1");
    me.admin = true;
  } catch {
    me.admin = false;
  }
  signingIn = false;
  sessionStorage.setItem("minuta.admin", me.admin ? "1" : "");
}

function renderSignIn(reason = "") {
  document.title = "Sign in · Minuta";
  document.getElementById("nav").hidden = true;
  const input = h("input", { id: "api-key", name: "api-key", type: "password", autocomplete: "off", required: true, spellcheck: "false", "aria-describedby": "key-help" });
  const error = h("p", { class: "error", role: "alert", id: "sign-in-error" }, reason);
  const form = h("form", { class: "card narrow", "aria-labelledby": "sign-in-title" },
    h("h1", { id: "sign-in-title" }, "Sign in"),
    h("label", { for: "api-key" }, "API key"),
    input,
    h("p", { id: "key-help", class: "hint" }, "Kept in this tab only (session storage). Create one with ", h("code", {}, "minuta keys create --tenant NAME"), "."),
    error,
    h("button", { type: "submit", class: "primary" }, "Sign in"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    try {
      await checkKey(input.value.trim());
    } catch (err) {
      error.textContent = err instanceof ApiError && err.status === 401 ? `That key was refused: ${err.message}` : err.message;
      input.focus();
      return;
    }
    route();
  });
  main.append(form);
  input.focus();
}

document.addEventListener("click", (e) => {
  const link = e.target.closest("a[data-link]");
  if (!link || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
  e.preventDefault();
  navigate(link.getAttribute("href"));
});
window.addEventListener("popstate", route);
document.getElementById("sign-out").addEventListener("click", () => {
  session.clear();
  sessionStorage.removeItem("minuta.admin");
  me = { admin: false };
  navigate("/ui/");
});
onUnauthorized.add((detail) => {
  if (!session.key || signingIn) return;
  session.clear();
  showError(`Signed out: ${detail || "the API key was refused"}`);
  route();
});

me.admin = sessionStorage.getItem("minuta.admin") === "1";
route();
