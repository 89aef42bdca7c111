// Links (revoke one, revoke everything issued before now in a scope) and the audit trail (filters,
// pages of older events, JSON lines export).
import { call, query } from "./api.js";
import { state } from "./state.js";
import { fill, confirmAction, el, errorText, field, table, toast, when } from "./ui.js";

export async function linksPage(root) {
  const activeOnly = el("input", { type: "checkbox", id: "links-active" });
  const bucketFilter = el("input", { id: "links-bucket", placeholder: "any bucket" });
  const list = el("div", { id: "links-list" });
  const load = async () => {
    const answer = await call("GET", `/links${query({ bucket: bucketFilter.value.trim(), active: activeOnly.checked ? "true" : "", limit: 500 })}`);
    const rows = answer.links.map((link) => el("tr", { "data-link": link.id },
      el("td", {}, link.kind), el("td", {}, `${link.bucket}/${link.key || ""}`), el("td", {}, link.user || "—"),
      el("td", {}, when(link.created)), el("td", {}, when(link.expires)),
      el("td", {}, `${link.uses}${link.max_uses ? ` / ${link.max_uses}` : ""}`), el("td", {}, when(link.last_used)),
      el("td", {}, el("span", { class: `badge ${link.state}` }, link.state)),
      el("td", {}, link.state === "revoked" ? "" : el("button", { type: "button", class: "danger", onclick: () =>
        confirmAction("Revoke this link?", `The link to ${link.key} stops working at once.`, async () => {
          await call("DELETE", `/links/${encodeURIComponent(link.id)}`);
          toast("Link revoked.");
          load();
        }, "Revoke") }, "Revoke"))));
    fill(list, table(["Kind", "Object", "Creator", "Created", "Expires", "Uses", "Last use", "State", ""], rows,
      "No links yet. Share objects from a bucket's explorer."));
    await loadPars();
  };
  // Pre-authenticated requests: their own list and delete calls (GET/DELETE /pars); never their URLs.
  const parList = el("div", { id: "pars-list" });
  const loadPars = async () => {
    const answer = await call("GET", `/pars${query({ bucket: bucketFilter.value.trim(), active: activeOnly.checked ? "true" : "", limit: 500 })}`);
    const rows = answer.pars.map((par) => el("tr", { "data-par": par.id },
      el("td", {}, parScope(par)), el("td", {}, parAccess(par)), el("td", {}, par.creator || "—"),
      el("td", {}, when(epoch(par.timeCreated))), el("td", {}, when(epoch(par.timeExpires))),
      el("td", {}, `${par.uses}${par.maxUses ? ` / ${par.maxUses}` : ""}`), el("td", {}, when(epoch(par.timeLastUsed))),
      el("td", {}, el("span", { class: `badge ${par.state}` }, par.state)),
      el("td", {}, par.state === "deleted" ? "" : el("button", { type: "button", class: "danger", onclick: () =>
        confirmAction("Delete this pre-authenticated request?", `Its URL (${parScope(par)}) stops working at once.`, async () => {
          await call("DELETE", `/pars/${encodeURIComponent(par.bucketName)}/${encodeURIComponent(par.id)}`);
          toast("Pre-authenticated request deleted.");
          load();
        }, "Delete") }, "Delete"))));
    fill(parList, table(["Scope", "Access", "Creator", "Created", "Expires", "Uses", "Last use", "State", ""], rows,
      "No pre-authenticated requests. Share with the kind \u201cPre-authenticated request\u201d, or share a folder from the explorer."));
  };
  const scope = el("select", { id: "revoke-scope" }, el("option", { value: "object" }, "Object"),
    el("option", { value: "prefix" }, "Folder (prefix)"), el("option", { value: "bucket" }, "Bucket"));
  const bucket = el("input", { id: "revoke-bucket", required: true });
  const target = el("input", { id: "revoke-target", placeholder: "key or folder/" });
  const problem = el("p", { class: "error", role: "alert" });
  scope.addEventListener("change", () => { target.disabled = scope.value === "bucket"; });
  const revokeBefore = el("form", { class: "toolbar", novalidate: true, onsubmit: (event) => {
    event.preventDefault();
    problem.textContent = "";
    if (!bucket.value || (scope.value !== "bucket" && !target.value)) { problem.textContent = "Name the bucket and the object or folder."; return; }
    const body = scope.value === "bucket" ? { scope: "bucket", target: bucket.value }
      : { scope: scope.value, bucket: bucket.value, target: target.value };
    confirmAction("Revoke every link issued before now?", `Every link to this ${scope.value} issued until now stops working; new links still work.`,
      async () => { await call("POST", "/revocations", body); toast("Revoked."); load(); }, "Revoke all")
      .catch((err) => { problem.textContent = errorText(err); });
  } }, field("Scope", scope), field("Bucket", bucket), field("Object or folder", target),
  el("button", { type: "submit", class: "danger", id: "revoke-before" }, "Revoke all issued before now"));
  fill(root, el("div", { class: "page-head" }, el("h1", {}, "Links"),
    el("form", { class: "toolbar", onsubmit: (event) => { event.preventDefault(); load(); } },
      field("Bucket", bucketFilter), el("label", { class: "check" }, activeOnly, " Active only"),
      el("button", { type: "submit" }, "Filter"))),
  el("section", { "aria-label": "Revoke before now" }, el("h2", {}, "Revoke all links to an object, folder or bucket"), revokeBefore, problem),
  el("h2", {}, "Minted links"), list,
  el("h2", {}, "Pre-authenticated requests"), parList);
  await load();
}

// PAR times are RFC 3339 (OCI's field names); the page shows epoch seconds in the browser's zone.
function epoch(text) { return text ? Date.parse(text) / 1000 : null; }

function parScope(par) {
  const any = par.accessType.startsWith("AnyObject");
  if (!any) return `${par.bucketName}/${par.objectName}`;
  return par.objectName ? `${par.bucketName}/${par.objectName}* (folder)` : `${par.bucketName} (whole bucket)`;
}

const ACCESS_WORDS = { ObjectRead: "read", ObjectWrite: "write", ObjectReadWrite: "read and write",
  AnyObjectRead: "read any object", AnyObjectWrite: "upload only", AnyObjectReadWrite: "read and write any object" };

function parAccess(par) {
  const words = ACCESS_WORDS[par.accessType] || par.accessType;
  const extras = [par.bucketListingAction === "ListObjects" ? "may list" : null,
    par.mode === "download" ? "download" : null, par.allowedIpRange ? `from ${par.allowedIpRange}` : null].filter(Boolean);
  return el("span", { title: par.accessType }, extras.length ? `${words} (${extras.join(", ")})` : words);
}

const FILTERS = [["bucket", "Bucket"], ["user", "User"], ["kind", "Kind"], ["outcome", "Outcome"], ["action", "Action"]];

export async function auditPage(root) {
  const inputs = {};
  for (const [name] of FILTERS) inputs[name] = el("input", { id: `audit-${name}` });
  const kinds = ["s3v4", "s3v2", "post", ...(state.capabilities ? state.capabilities.link_kinds.map((k) => k.kind) : [])];
  inputs.kind = el("select", { id: "audit-kind" }, ["", ...new Set(kinds)].map((k) => el("option", { value: k }, k || "any")));
  inputs.outcome = el("select", { id: "audit-outcome" }, ["", "allowed", "refused"].map((o) => el("option", { value: o }, o || "any")));
  inputs.action = el("select", { id: "audit-action" }, ["", "mint", "use", "revoke", "share-view", "share-passphrase", "tempurl-key"]
    .map((o) => el("option", { value: o }, o || "any")));
  const since = el("input", { type: "datetime-local", id: "audit-since" });
  const until = el("input", { type: "datetime-local", id: "audit-until" });
  const list = el("div", { id: "audit-list" });
  let events = [];
  let older = null;
  const params = (extraUntil) => {
    const out = { limit: 100 };
    for (const [name] of FILTERS) out[name] = inputs[name].value.trim();
    if (since.value) out.since = String(new Date(since.value).getTime() / 1000);
    const end = extraUntil ?? (until.value ? new Date(until.value).getTime() / 1000 : null);
    if (end !== null) out.until = String(end);
    return out;
  };
  const render = () => {
    const rows = events.map((e) => el("tr", { "data-event": e.id },
      el("td", {}, when(e.time)), el("td", {}, e.action), el("td", {}, el("span", { class: `badge ${e.outcome}` }, e.outcome)),
      el("td", {}, e.kind || "—"), el("td", {}, e.user || e.access_key_id || "—"),
      el("td", {}, e.bucket ? `${e.bucket}/${e.key || ""}` : "—"), el("td", {}, e.method || "—"),
      el("td", {}, e.client_ip || "—"), el("td", { class: "reason" }, e.reason || (e.outcome === "allowed" ? "" : "—"))));
    fill(list, table(["Time", "Action", "Outcome", "Kind", "User", "Object", "Method", "Client", "Reason"], rows,
      "No events match these filters."),
    older !== null ? el("button", { type: "button", id: "audit-older", onclick: () => load(older) }, "Older events") : null);
  };
  const load = async (before) => {
    const answer = await call("GET", `/audit${query(params(before))}`);
    const page = answer.events.slice().reverse(); // newest first on screen
    events = before ? events.concat(page) : page;
    older = answer.events.length === 100 ? answer.events[0].time - 0.000001 : null;
    render();
  };
  const exportLines = () => {
    const text = events.map((e) => JSON.stringify(e)).join("\n") + (events.length ? "\n" : "");
    const url = URL.createObjectURL(new Blob([text], { type: "application/x-ndjson" }));
    const a = el("a", { href: url, download: "satchel-audit.jsonl" });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  };
  fill(root, el("div", { class: "page-head" }, el("h1", {}, "Audit trail"),
    el("button", { type: "button", id: "audit-export", onclick: exportLines }, "Export JSON lines")),
  el("form", { class: "toolbar filters", onsubmit: (event) => { event.preventDefault(); load(null); } },
    FILTERS.map(([name, label]) => field(label, inputs[name])), field("From", since), field("Until", until),
    el("button", { type: "submit", class: "primary" }, "Apply")),
  list);
  await load(null);
}
