// Buckets: the seeds' user-owned / contract-owned filter, create, settings (public, link ceiling), delete.
import { call, query } from "./api.js";
import { el, fill, closeDialog, confirmAction, duration, errorText, field, openDialog, table, toast, when } from "./ui.js";
import { state } from "./state.js";

let filter = "";

export async function bucketsPage(root) {
  const answer = await call("GET", `/buckets${query({ owner: filter })}`);
  const admin = state.me.role === "admin";
  const filterSelect = el("select", { id: "bucket-filter", onchange: () => { filter = filterSelect.value; bucketsPage(root); } },
    el("option", { value: "" }, "All buckets"),
    el("option", { value: "user", selected: filter === "user" }, "User-owned"),
    el("option", { value: "account", selected: filter === "account" }, "Contract-owned"));
  const name = el("input", { id: "new-bucket", placeholder: "my-bucket", required: true, autocomplete: "off",
    pattern: "[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]" });
  const owner = el("select", { id: "new-bucket-owner" }, el("option", { value: "user" }, "Me (user-owned)"),
    admin ? el("option", { value: "account" }, "The account (contract-owned)") : null);
  const problem = el("p", { class: "error", role: "alert" });
  const create = el("form", { class: "toolbar", novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    problem.textContent = "";
    if (!name.value) { problem.textContent = "Enter a bucket name."; return; }
    try {
      await call("POST", "/buckets", { name: name.value.trim(), owner: owner.value });
      toast(`Bucket ${name.value} created.`);
      bucketsPage(root);
    } catch (err) { problem.textContent = errorText(err); }
  } }, field("New bucket name", name, "3-63 characters: a-z, 0-9, dots and hyphens."),
  field("Owned by", owner), el("button", { type: "submit", class: "primary", id: "create-bucket" }, "Create bucket"));

  const rows = answer.buckets.map((b) => el("tr", { "data-bucket": b.name },
    el("td", {}, el("a", { href: entryPoint(b) }, b.name)),
    el("td", {}, b.owner === "account" ? "Contract" : `User ${b.owner_user || ""}`),
    el("td", {}, accessBadge(b)),
    el("td", {}, b.max_link_lifetime ? duration(b.max_link_lifetime) : "server default"),
    el("td", {}, when(b.created)),
    el("td", { class: "actions" }, b.admin ? [
      el("button", { type: "button", onclick: () => settingsDialog(root, b) }, "Settings"),
      el("button", { type: "button", class: "danger", onclick: () => confirmAction(`Delete bucket ${b.name}?`,
        "The bucket must be empty. This cannot be undone.", async () => {
          await call("DELETE", `/buckets/${encodeURIComponent(b.name)}`);
          toast(`Bucket ${b.name} deleted.`);
          bucketsPage(root);
        }, "Delete bucket") }, "Delete"),
    ] : el("span", { class: "muted" }, "granted"))));
  fill(root, 
    el("div", { class: "page-head" }, el("h1", {}, "Buckets"), field("Show", filterSelect)),
    create, problem,
    table(["Name", "Owner", "Access", "Link ceiling", "Created", "Actions"], rows,
      filter ? "No buckets of this kind." : "No buckets yet: create one above."));
}

// What answers, not what is stored: under Block Public Access's IgnorePublicAcls a public flag answers nobody.
function accessBadge(bucket) {
  if (bucket.public_read && !bucket.public_acl_ignored) return el("span", { class: "badge warn" }, "Public");
  if (bucket.public_read) {
    return el("span", { class: "badge", title: "The bucket's public ACL is set but Block Public Access (IgnorePublicAcls) ignores it." },
      "Private (public ACL ignored)");
  }
  return el("span", { class: "badge" }, "Private");
}

// Where a bucket opens: its root, or for a member granted only prefixes, the first of them.
export function entryPoint(bucket) {
  const prefixes = bucket.grant_prefixes || [];
  const start = bucket.admin || prefixes.includes("") || !prefixes.length ? "" : prefixes[0];
  return `#/b/${encodeURIComponent(bucket.name)}/${start.split("/").map(encodeURIComponent).join("/")}`;
}

function settingsDialog(root, bucket) {
  const isPublic = el("input", { type: "checkbox", id: "bucket-public", checked: bucket.public_read });
  const ceiling = el("input", { type: "number", id: "bucket-ceiling", min: "1", placeholder: "server default",
    value: bucket.max_link_lifetime || "" });
  const problem = el("p", { class: "error", role: "alert" });
  const save = async () => {
    problem.textContent = "";
    try {
      if (isPublic.checked !== bucket.public_read) {
        await call("PUT", `/buckets/${encodeURIComponent(bucket.name)}/settings`, { public_read: isPublic.checked });
      }
      const seconds = ceiling.value ? Number(ceiling.value) : null;
      if (seconds !== bucket.max_link_lifetime) {
        await call("PUT", `/buckets/${encodeURIComponent(bucket.name)}/link-policy`, { max_link_lifetime: seconds });
      }
      closeDialog();
      toast("Settings saved.");
      bucketsPage(root);
    } catch (err) { problem.textContent = errorText(err); }
  };
  openDialog(`Settings of ${bucket.name}`,
    el("label", { class: "check" }, isPublic, " Public: anyone on the internet may list and read every object"),
    el("p", { class: "warning" }, "Warning: a public bucket needs no link at all. Keep buckets private and share single objects with links."),
    bucket.public_acl_ignored ? el("p", { class: "muted", id: "bucket-public-ignored" },
      "Block Public Access (IgnorePublicAcls) is on: the public setting is kept but answers nobody until it is lifted.") : null,
    field("Longest link lifetime (seconds)", ceiling, "Also shortens links already handed out. Empty: the server's ceiling."),
    problem,
    el("div", { class: "actions" }, el("button", { type: "button", onclick: closeDialog }, "Cancel"),
      el("button", { type: "button", class: "primary", id: "bucket-save", onclick: save }, "Save")));
}
