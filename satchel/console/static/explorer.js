// The object explorer: folders from "/" prefixes with breadcrumbs, pages by continuation, search by name
// in the folder, sort, details with the links to an object, upload (picker or drop; multipart for large
// files; progress per file; cancel), download, delete, share.
import { call, downloadUrl, query, send } from "./api.js";
import { bytes, fill, closeDialog, confirmAction, el, errorText, openDialog, table, toast, when } from "./ui.js";
import { openShareDialog } from "./sharedialog.js";
import { state } from "./state.js";

const PAGE = 200;
let view = null;

export async function explorerPage(root, bucket, prefix) {
  view = { root, bucket, prefix, search: "", folders: [], objects: [], continuation: null, sort: "name", desc: false,
    selected: new Set() };
  render();
  try {
    await loadPage(true);
  } catch (err) {
    if (err.code !== "AccessDenied") throw err;
    // A member granted only some prefixes of this bucket: say so, and offer them.
    const { buckets } = await call("GET", "/buckets");
    const entry = buckets.find((b) => b.name === bucket);
    const prefixes = entry ? entry.grant_prefixes.filter((p) => p) : [];
    fill(document.getElementById("listing"), el("p", { class: "error", role: "alert" }, err.message),
      prefixes.length ? el("p", {}, "You may open: ", prefixes.map((p) => el("a", {
        href: `#/b/${encodeURIComponent(bucket)}/${p.split("/").map(encodeURIComponent).join("/")}`, class: "chip" }, p))) : null);
  }
}

async function loadPage(fresh) {
  const v = view;
  const answer = await call("GET", `/buckets/${encodeURIComponent(v.bucket)}/objects${query({
    prefix: v.prefix, search: v.search, continuation: fresh ? null : v.continuation, limit: PAGE })}`);
  if (v !== view) return;
  if (fresh) { v.folders = []; v.objects = []; v.selected.clear(); }
  v.folders.push(...answer.folders);
  v.objects.push(...answer.objects);
  v.continuation = answer.continuation;
  renderList();
}

function crumbs(bucket, prefix) {
  const parts = prefix.split("/").filter(Boolean);
  const items = [el("li", {}, el("a", { href: "#/buckets" }, "Buckets")),
    el("li", {}, el("a", { href: `#/b/${encodeURIComponent(bucket)}/` }, bucket))];
  let path = "";
  for (const part of parts) {
    path += `${part}/`;
    items.push(el("li", {}, el("a", { href: `#/b/${encodeURIComponent(bucket)}/${path.split("/").map(encodeURIComponent).join("/")}` }, part)));
  }
  items[items.length - 1].querySelector("a").setAttribute("aria-current", "page");
  return el("nav", { "aria-label": "Breadcrumbs", class: "crumbs" }, el("ol", {}, items));
}

function render() {
  const v = view;
  const search = el("input", { type: "search", id: "search", placeholder: "Names starting with…", value: v.search });
  const picker = el("input", { type: "file", id: "file-picker", multiple: true, class: "sr-only",
    onchange: () => { uploadFiles(Array.from(picker.files)); picker.value = ""; } });
  const drop = el("div", { class: "dropzone", id: "dropzone" }, "Drop files here to upload them to this folder, or ",
    el("label", { for: "file-picker", class: "link-button" }, "choose files"), picker);
  drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    uploadFiles(Array.from(event.dataTransfer.files));
  });
  fill(v.root, 
    crumbs(v.bucket, v.prefix),
    el("div", { class: "page-head" }, el("h1", {}, v.prefix ? v.prefix.split("/").filter(Boolean).pop() : v.bucket),
      el("div", { class: "toolbar" },
        el("form", { role: "search", onsubmit: (event) => { event.preventDefault(); v.search = search.value; loadPage(true); } },
          el("label", { for: "search", class: "sr-only" }, "Search in this folder"), search,
          el("button", { type: "submit" }, "Search")),
        el("button", { type: "button", id: "share-selected", class: "primary", onclick: shareSelected }, "Share…"),
        state.capabilities && state.capabilities.link_kinds.some((k) => k.kind === "par")
          ? el("button", { type: "button", id: "share-folder", title: "One pre-authenticated request for this whole folder",
            onclick: () => openShareDialog(v.bucket, [], state.capabilities, { folder: v.prefix }) },
          v.prefix ? "Share folder…" : "Share bucket…") : null,
        el("button", { type: "button", id: "delete-selected", class: "danger", onclick: deleteSelected }, "Delete…"))),
    drop,
    el("section", { id: "transfers", class: "transfers", "aria-label": "Transfers" },
      el("button", { type: "button", class: "link-button clear-transfers", onclick: () => {
        for (const row of document.querySelectorAll(".transfer.ok, .transfer.failed, .transfer.cancelled")) row.remove();
      } }, "Clear finished transfers")),
    el("div", { id: "listing" }));
}

function sorted(objects) {
  const { sort, desc } = view;
  const out = [...objects].sort((a, b) => {
    const x = sort === "name" ? a.key : a[sort];
    const y = sort === "name" ? b.key : b[sort];
    return x < y ? -1 : x > y ? 1 : 0;
  });
  return desc ? out.reverse() : out;
}

function header(label, key) {
  if (!key) return label;
  const v = view;
  const mark = v.sort === key ? (v.desc ? " ▼" : " ▲") : "";
  return el("button", { type: "button", class: "sort", "aria-label": `Sort by ${label}`, onclick: () => {
    v.desc = v.sort === key ? !v.desc : false;
    v.sort = key;
    renderList();
  } }, label + mark);
}

function renderList() {
  const v = view;
  const box = document.getElementById("listing");
  if (!box) return;
  const short = (key) => key.slice(v.prefix.length);
  const folderRows = v.folders.map((f) => el("tr", { class: "folder" }, el("td", {}),
    el("td", {}, el("a", { href: `#/b/${encodeURIComponent(v.bucket)}/${f.split("/").map(encodeURIComponent).join("/")}`, class: "folder-name" }, short(f))),
    el("td", {}, "—"), el("td", {}, "—"), el("td", {})));
  const objectRows = sorted(v.objects).map((o) => {
    const box = el("input", { type: "checkbox", "aria-label": `Select ${short(o.key)}`, "data-key": o.key,
      checked: v.selected.has(o.key), onchange: () => { if (box.checked) v.selected.add(o.key); else v.selected.delete(o.key); } });
    return el("tr", { "data-key": o.key }, el("td", {}, box),
      el("td", {}, el("button", { type: "button", class: "link-button", onclick: () => details(o.key) }, short(o.key))),
      el("td", {}, bytes(o.size)), el("td", {}, when(o.last_modified)),
      el("td", { class: "actions" },
        el("a", { class: "button", href: downloadUrl(v.bucket, o.key), download: short(o.key) }, "Download"),
        el("button", { type: "button", onclick: () => openShareDialog(v.bucket, [o.key], state.capabilities) }, "Share")));
  });
  fill(box, 
    table([el("span", { class: "sr-only" }, "Select"), header("Name", "name"), header("Size", "size"),
      header("Last modified", "last_modified"), "Actions"], [...folderRows, ...objectRows],
    v.search ? "No names in this folder start with that." : "This folder is empty. Drop files above to upload."),
    v.continuation ? el("button", { type: "button", id: "more", onclick: () => loadPage(false) }, "Load more") : null,
    el("p", { class: "muted small" }, `${v.folders.length} folders, ${v.objects.length} objects shown` +
      (v.continuation ? " (more to load; sorting applies to what is shown)" : "")));
}

function selectedKeys() {
  return Array.from(view.selected);
}

function shareSelected() {
  const keys = selectedKeys();
  if (!keys.length) { toast("Select one or more objects to share first.", "error"); return; }
  openShareDialog(view.bucket, keys, state.capabilities);
}

function deleteSelected() {
  const keys = selectedKeys();
  if (!keys.length) { toast("Select one or more objects to delete first.", "error"); return; }
  const v = view;
  confirmAction(`Delete ${keys.length} object${keys.length === 1 ? "" : "s"}?`, `${keys.join(", ")} will be deleted. This cannot be undone.`,
    async () => {
      for (const key of keys) await call("DELETE", `/buckets/${encodeURIComponent(v.bucket)}/object${query({ key })}`);
      toast("Deleted.");
      loadPage(true);
    }, "Delete");
}

async function details(key) {
  const v = view;
  const info = await call("GET", `/buckets/${encodeURIComponent(v.bucket)}/object${query({ key })}`);
  const facts = [["Key", info.key], ["Size", `${bytes(info.size)} (${info.size} bytes)`], ["Type", info.content_type || "unknown"],
    ["ETag", info.etag], ["Last modified", when(info.last_modified)]];
  for (const [name, value] of Object.entries(info.metadata)) facts.push([`x-amz-meta-${name}`, value]);
  const linkRows = info.links.map((link) => el("tr", {}, el("td", {}, link.kind), el("td", {}, link.mode || "—"),
    el("td", {}, link.user || "—"), el("td", {}, when(link.expires)),
    el("td", {}, `${link.uses}${link.max_uses ? ` / ${link.max_uses}` : ""}`), el("td", {}, link.state)));
  // Live pre-authenticated requests that reach it: its own, and those of a folder (or the bucket) holding it.
  const pars = await call("GET", `/pars${query({ bucket: v.bucket, active: "true", limit: 500 })}`)
    .then((answer) => answer.pars, () => []);
  for (const par of pars.filter((p) => (p.accessType.startsWith("AnyObject") ? key.startsWith(p.objectName || "")
    : p.objectName === key))) {
    linkRows.push(el("tr", { "data-par": par.id }, el("td", {}, `par (${par.accessType})`), el("td", {}, par.mode || "—"),
      el("td", {}, par.creator || "—"), el("td", {}, when(Date.parse(par.timeExpires) / 1000)),
      el("td", {}, `${par.uses}${par.maxUses ? ` / ${par.maxUses}` : ""}`), el("td", {}, par.state)));
  }
  openDialog(key.split("/").pop(),
    el("dl", { class: "facts" }, facts.map(([name, value]) => [el("dt", {}, name), el("dd", {}, value)])),
    el("h3", {}, "Links to this object"),
    table(["Kind", "Mode", "Signer", "Expires", "Uses", "State"], linkRows, "No minted links point at it."),
    el("div", { class: "actions" },
      el("a", { class: "button", href: downloadUrl(v.bucket, key), download: key.split("/").pop() }, "Download"),
      el("button", { type: "button", onclick: () => { closeDialog(); openShareDialog(v.bucket, [key], state.capabilities); } }, "Share"),
      el("button", { type: "button", class: "danger", onclick: () => confirmAction(`Delete ${key}?`, "This cannot be undone.", async () => {
        await call("DELETE", `/buckets/${encodeURIComponent(v.bucket)}/object${query({ key })}`);
        toast("Deleted.");
        loadPage(true);
      }, "Delete") }, "Delete")));
}

// --- uploads ------------------------------------------------------------------------------------
function uploadFiles(files) {
  const v = view;
  for (const file of files) upload(v.bucket, v.prefix + file.name, file);
}

function transferRow(name, size) {
  const bar = el("progress", { max: String(size || 1), value: "0", "aria-label": `Upload of ${name}` });
  const label = el("span", { class: "percent" }, "0 %");
  const cancel = el("button", { type: "button", class: "link-button" }, "Cancel");
  const row = el("div", { class: "transfer", "data-name": name }, el("span", { class: "name" }, name), bar, label, cancel);
  document.getElementById("transfers").append(row);
  return {
    row, cancel,
    progress(done) {
      bar.value = String(done);
      label.textContent = `${size ? Math.floor((done / size) * 100) : 100} %`;
    },
    finish(text, kind) { label.textContent = text; row.classList.add(kind); cancel.remove(); },
  };
}

async function upload(bucket, key, file) {
  const ui = transferRow(key, file.size);
  const caps = state.capabilities;
  const path = `/buckets/${encodeURIComponent(bucket)}`;
  let cancelled = false;
  let current = null;
  let uploadId = null;
  ui.cancel.addEventListener("click", () => { cancelled = true; if (current) current.abort(); });
  try {
    if (file.size <= caps.multipart_threshold) {
      current = send("PUT", `${path}/upload${query({ key })}`, file, (n) => ui.progress(n), file.type || "application/octet-stream");
      await current.promise;
    } else {
      const created = await call("POST", `${path}/uploads${query({ key, content_type: file.type || "application/octet-stream" })}`);
      uploadId = created.upload_id;
      const parts = [];
      let done = 0;
      for (let start = 0, number = 1; start < file.size; start += created.part_size, number += 1) {
        if (cancelled) throw new Error("Cancelled.");
        const blob = file.slice(start, start + created.part_size);
        current = send("PUT", `${path}/uploads/${encodeURIComponent(uploadId)}${query({ key, part: number })}`, blob,
          (n) => ui.progress(done + n));
        const part = await current.promise;
        done += blob.size;
        parts.push({ part: part.part, etag: part.etag });
      }
      await call("POST", `${path}/uploads/${encodeURIComponent(uploadId)}/complete${query({ key })}`, { parts });
    }
    ui.progress(file.size);
    ui.finish("100 % — done", "ok");
    if (view && view.bucket === bucket) loadPage(true);
  } catch (err) {
    if (uploadId) {
      try { await call("DELETE", `${path}/uploads/${encodeURIComponent(uploadId)}${query({ key })}`); } catch (e) { /* gone */ }
    }
    ui.finish(cancelled ? "Cancelled" : `Failed: ${errorText(err)}`, cancelled ? "cancelled" : "failed");
  }
}
