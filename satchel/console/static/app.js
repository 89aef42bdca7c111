// The Satchel console: sign-in, then pages chosen by the URL fragment (#/buckets, #/b/BUCKET/PREFIX,
// #/links, #/audit, #/keys, #/users). Everything goes through the management API (api.js).
import { call, onSignedOut, setCsrf } from "./api.js";
import { el, clear, fill, toast } from "./ui.js";
import { state } from "./state.js";
import { bucketsPage } from "./buckets.js";
import { explorerPage } from "./explorer.js";
import { linksPage, auditPage } from "./oversight.js";
import { keysPage, usersPage } from "./people.js";

const page = () => document.getElementById("page");

function showLogin(message) {
  state.me = null;
  document.getElementById("topbar").hidden = true;
  clear(page());
  document.getElementById("login").hidden = false;
  document.getElementById("login-error").textContent = message || "";
  document.getElementById("login-user").focus();
}

async function signedIn(me) {
  state.me = me;
  setCsrf(me.csrf_token);
  state.capabilities = await call("GET", "/capabilities");
  document.getElementById("login").hidden = true;
  document.getElementById("topbar").hidden = false;
  document.getElementById("who").textContent = `${me.user} (${me.role})`;
  document.getElementById("nav-users").hidden = me.role !== "admin";
  route();
}

const ROUTES = [
  [/^#\/b\/([^/]+)\/?(.*)$/, (m) => explorerPage(page(), decodeURIComponent(m[1]),
    m[2].split("/").map(decodeURIComponent).join("/"))],
  [/^#\/links$/, () => linksPage(page())],
  [/^#\/audit$/, () => auditPage(page())],
  [/^#\/keys$/, () => keysPage(page())],
  [/^#\/users$/, () => usersPage(page())],
  [/^#\/buckets$/, () => bucketsPage(page())],
];

export async function route() {
  if (!state.me) return;
  const hash = location.hash || "#/buckets";
  if (hash === "#/users" && state.me.role !== "admin") { location.hash = "#/buckets"; return; }
  for (const link of document.querySelectorAll("[data-nav]")) {
    const active = hash.startsWith(`#/${link.dataset.nav}`) || (link.dataset.nav === "buckets" && hash.startsWith("#/b/"));
    if (active) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
  for (const [pattern, render] of ROUTES) {
    const match = hash.match(pattern);
    if (match) {
      try {
        await render(match);
      } catch (err) {
        fill(page(), el("p", { class: "error", role: "alert" }, err.message || String(err)));
      }
      return;
    }
  }
  location.hash = "#/buckets";
}

async function start() {
  document.getElementById("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const user = document.getElementById("login-user").value.trim();
    const password = document.getElementById("login-password").value;
    const problem = document.getElementById("login-error");
    if (!user || !password) { problem.textContent = "Enter your user name and password."; return; }
    const button = event.target.querySelector("button");
    button.disabled = true;
    try {
      const me = await call("POST", "/session", { user, password });
      document.getElementById("login-password").value = "";
      if (location.hash !== "#/buckets") history.replaceState(null, "", "#/buckets");  // a fresh start
      await signedIn(me);
    } catch (err) {
      problem.textContent = err.message;
    } finally {
      button.disabled = false;
    }
  });
  document.getElementById("sign-out").addEventListener("click", async () => {
    try { await call("DELETE", "/session"); } catch (err) { /* signed out either way */ }
    setCsrf(null);
    showLogin("You are signed out.");
  });
  onSignedOut(() => { if (state.me) showLogin("Your session has expired. Sign in again."); });
  window.addEventListener("hashchange", route);
  const me = await call("GET", "/session").catch(() => ({ signed_in: false }));
  if (me.signed_in) await signedIn(me); else showLogin("");
}

start().catch((err) => toast(err.message || String(err), "error"));
