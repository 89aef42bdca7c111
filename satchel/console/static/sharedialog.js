// The share dialog: one or many objects (or, for a pre-authenticated request, a whole folder), a link kind
// from the server's capabilities, view or download, expiry as number + unit (presets 15 min, 1 h, 24 h, 7 d)
// capped by the kind's and the bucket's ceilings, max uses, IP range, optionally a share page with a
// passphrase; one URL per object with copy buttons and "copy all".
import { call, serverNow } from "./api.js";
import { el, fill, copyText, duration, errorText, openDialog, field, toast } from "./ui.js";

// How each link kind is minted, keyed by the `kind` that GET /capabilities lists. A kind whose mint call
// takes LinkRequest and answers MintResult (the S3 presigned kinds, Swift TempURLs) uses `default`:
// request(spec) -> body, results(answer) -> [{key, url, link, error}]. A kind minted one object per call
// (PARs) sets perObject: request(spec, key) -> body, result(answer, key) -> {key, url, ...}. `sharePage`:
// its links are registry links a share page /s/{id} can front; `once`: its URL is never shown again.
const linkRequest = {
  request: (spec) => ({
    bucket: spec.bucket, keys: spec.keys, kind: spec.kind, expires_in: spec.expiresIn, mode: spec.mode,
    max_uses: spec.maxUses || null, filename: spec.mode === "download" ? spec.filename : null,
  }),
  results: (answer) => answer.links,
};
export const KIND_ADAPTERS = {
  default: { ...linkRequest, sharePage: true },
  swift: { ...linkRequest, sharePage: false },
  par: {
    perObject: true,
    once: true,
    request: (spec, key) => {
      const folder = spec.folder !== undefined && spec.folder !== null;
      const access = !folder ? "ObjectRead" : spec.access === "write" ? "AnyObjectWrite" : "AnyObjectRead";
      const reads = access !== "AnyObjectWrite";
      const scope = folder ? (key || `bucket ${spec.bucket}`) : key;
      return {
        bucket: spec.bucket, name: `Console: ${scope}`.slice(0, 256), accessType: access,
        objectName: key || null, bucketListingAction: folder && reads && spec.listing ? "ListObjects" : "Deny",
        timeExpires: new Date(serverNow() + spec.expiresIn * 1000).toISOString(), maxUses: spec.maxUses || null,
        mode: reads ? spec.mode : null, filename: reads && !folder && spec.mode === "download" ? spec.filename : null,
        allowedIpRange: spec.ipRange || null,
      };
    },
    result: (answer, key) => ({ key: key || "(whole bucket)", url: answer.fullPath, par: answer }),
  },
};

async function mint(kind, spec) {
  const adapter = KIND_ADAPTERS[kind.kind] || KIND_ADAPTERS.default;
  if (!adapter.perObject) return adapter.results(await call("POST", kind.endpoint, adapter.request(spec)));
  const items = [];
  for (const key of spec.keys) {
    try {
      items.push(adapter.result(await call("POST", kind.endpoint, adapter.request(spec, key)), key));
    } catch (err) {
      items.push({ key: key || "(whole bucket)", error: { message: errorText(err) } });
    }
  }
  return items;
}

const UNITS = [["seconds", 1], ["minutes", 60], ["hours", 3600], ["days", 86400]];
const PRESETS = [["15 min", 15, 60], ["1 hour", 1, 3600], ["24 hours", 24, 3600], ["7 days", 7, 86400]];
const CHECKLIST = [
  "Is this the exact object the recipient should see?",
  "Does the file contain personal or customer data?",
  "Is the expiry short enough (15 minutes for a hand-off, 1 hour for troubleshooting, 24 hours for normal downloads)?",
  "Will the link go through a secure channel, to the intended people only?",
  "If it is sent by mistake: revoke it on the Links page (every use is on the Audit page).",
];

async function bucketEntry(bucket) {
  // The bucket list carries each bucket's ceiling (its link policy needs control of the bucket).
  const { buckets } = await call("GET", "/buckets");
  return buckets.find((b) => b.name === bucket) || {};
}

// The longest expiry a kind allows on this bucket: the smaller of the kind's server cap and the bucket's
// ceiling (0 or none: no cap from that side; PARs may have none at all).
function capFor(kind, entry, serverMax) {
  const server = kind.max_lifetime ?? serverMax;
  const bucketCap = entry.max_link_lifetime || 0;
  if (bucketCap && (!server || bucketCap <= server)) return { seconds: bucketCap, bucket: true };
  return { seconds: server || Infinity, bucket: false };
}

function capText(cap, kind) {
  if (cap.bucket) return `This bucket's links live at most ${duration(cap.seconds)}.`;
  if (cap.seconds === Infinity) return `${kind.label}s have no maximum lifetime here: they work until they expire or are deleted.`;
  return `Links of this kind live at most ${duration(cap.seconds)} on this server.`;
}

const NO_KEY = "TempURLs are signed with a TempURL key you set yourself";

// options.folder: share a folder (a prefix; "" the whole bucket) as one pre-authenticated request.
export async function openShareDialog(bucket, keys, capabilities, options = {}) {
  const folder = options.folder ?? null;
  const kinds = capabilities.link_kinds.filter((k) => folder === null || k.kind === "par");
  if (!kinds.length) { toast("This server cannot share a folder.", "error"); return; }
  const entry = await bucketEntry(bucket);
  let cap = capFor(kinds[0], entry, capabilities.max_link_lifetime);
  const kindSelect = el("select", { id: "share-kind" },
    kinds.map((k) => el("option", { value: k.kind }, k.label)));
  const modeView = el("input", { type: "radio", name: "share-mode", value: "view", id: "share-mode-view", checked: true });
  const modeDownload = el("input", { type: "radio", name: "share-mode", value: "download", id: "share-mode-download" });
  // One object downloaded: its saved name may differ from the key's last segment.
  const filename = el("input", { id: "share-filename", value: keys.length ? keys[0].split("/").pop() : "", disabled: true });
  const filenameField = keys.length === 1 ? field("Saved file name", filename, "For download links.") : null;
  for (const radio of [modeView, modeDownload]) {
    radio.addEventListener("change", () => { filename.disabled = !modeDownload.checked; });
  }
  // A folder's PAR: read its objects (optionally list them), or upload only.
  const accessRead = el("input", { type: "radio", name: "share-access", value: "read", id: "share-access-read", checked: true });
  const accessWrite = el("input", { type: "radio", name: "share-access", value: "write", id: "share-access-write" });
  const listing = el("input", { type: "checkbox", id: "share-listing" });
  const modeSet = el("fieldset", { class: "inline" }, el("legend", {}, "Mode"),
    el("label", {}, modeView, " View in the browser"), el("label", {}, modeDownload, " Download with its file name"));
  for (const radio of [accessRead, accessWrite]) {
    radio.addEventListener("change", () => {
      listing.disabled = accessWrite.checked;
      modeView.disabled = modeDownload.disabled = accessWrite.checked;
    });
  }
  const accessSet = folder === null ? null : el("fieldset", {}, el("legend", {}, "Access"),
    el("label", { class: "check" }, accessRead, " Read the objects in this folder"),
    el("label", { class: "check sub" }, listing, " and let the link list them"),
    el("label", { class: "check" }, accessWrite, " Upload only: the link adds files, it reads nothing"));
  const amount = el("input", { type: "number", id: "share-amount", min: "1", value: "1", inputmode: "numeric", required: true });
  const unit = el("select", { id: "share-unit" }, UNITS.map(([name, size]) =>
    el("option", { value: String(size), selected: size === 3600 }, name)));
  const capNote = el("p", { class: "muted small", id: "share-cap" });
  const maxUses = el("input", { type: "number", id: "share-max-uses", min: "1", placeholder: "unlimited", inputmode: "numeric" });
  const ipRange = el("input", { id: "share-ip", placeholder: "e.g. 203.0.113.0/24", disabled: true });
  const ipHint = el("small", { class: "muted" }, "Not offered by this link kind.");
  const asPage = el("input", { type: "checkbox", id: "share-page" });
  const passphrase = el("input", { type: "password", id: "share-passphrase", autocomplete: "new-password", disabled: true,
    placeholder: "optional, 8 characters or more" });
  asPage.addEventListener("change", () => { passphrase.disabled = !asPage.checked; });
  const problem = el("p", { class: "error", role: "alert", id: "share-error" });
  const fix = el("div", { id: "share-fix" });
  const results = el("div", { id: "share-results" });

  // Share pages front registry links (the S3 kinds) only: hidden for the others.
  const pageFields = folder === null ? el("div", { class: "stack", id: "share-page-fields" },
    el("label", { class: "check" }, asPage, " Send as a share page (file name, preview and download button)"),
    field("Share page passphrase", passphrase)) : null;
  const current = () => kinds.find((k) => k.kind === kindSelect.value) || kinds[0];
  const updateKind = () => {
    const kind = current();
    const adapter = KIND_ADAPTERS[kind.kind] || KIND_ADAPTERS.default;
    ipRange.disabled = !kind.ip_range;
    ipHint.textContent = kind.ip_range ? "Only these addresses (one CIDR range) may use the link. Leave empty for any."
      : "Not offered by this link kind.";
    maxUses.disabled = !kind.max_uses;
    maxUses.placeholder = kind.max_uses ? "unlimited" : "not offered by this link kind";
    modeDownload.disabled = !kind.modes.includes("download") || accessWrite.checked;
    asPage.disabled = !adapter.sharePage;
    if (asPage.disabled) { asPage.checked = false; passphrase.disabled = true; }
    if (pageFields) pageFields.hidden = asPage.disabled;
    cap = capFor(kind, entry, capabilities.max_link_lifetime);
    capNote.textContent = capText(cap, kind);
    fill(fix);
  };
  kindSelect.addEventListener("change", updateKind);
  updateKind();

  const presets = el("div", { class: "presets", role: "group", "aria-label": "Expiry presets" },
    PRESETS.map(([label, n, size]) => el("button", { type: "button", class: "chip", onclick: () => {
      amount.value = String(n);
      unit.value = String(size);
    } }, label)));

  const generate = el("button", { type: "submit", class: "primary", id: "share-generate" }, "Generate links");
  // Swift without a TempURL key: whoever controls the bucket may set one here (the server makes it up).
  const offerKey = (kind) => {
    if (kind.kind !== "swift" || !entry.admin) return;
    fill(fix, el("button", { type: "button", id: "share-set-key", onclick: async (event) => {
      event.target.disabled = true;
      try {
        await call("PUT", `/buckets/${encodeURIComponent(bucket)}/tempurl-key`, { slot: 1 });
        toast(`A TempURL key is set on ${bucket}.`);
        fill(fix);
        problem.textContent = "";
        form.requestSubmit(generate);
      } catch (err) {
        problem.textContent = errorText(err);
        event.target.disabled = false;
      }
    } }, "Set a container key"), el("span", { class: "muted small" },
      " Satchel makes up a random key for this bucket and signs with it; clearing it later stops every TempURL signed with it."));
  };
  const form = el("form", { class: "stack", novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    problem.textContent = "";
    fill(fix);
    const seconds = Number(amount.value) * Number(unit.value);
    if (!Number.isInteger(seconds) || seconds < 1) { problem.textContent = "Enter an expiry of at least 1 second."; return; }
    if (seconds > cap.seconds) {
      problem.textContent = `That is longer than allowed here: at most ${duration(cap.seconds)}.`;
      return;
    }
    const uses = maxUses.value && !maxUses.disabled ? Number(maxUses.value) : null;
    if (uses !== null && (!Number.isInteger(uses) || uses < 1)) { problem.textContent = "Maximum uses must be a whole number from 1."; return; }
    const range = ipRange.disabled ? "" : ipRange.value.trim();
    if (range && !/^[0-9a-fA-F.:]+(\/\d{1,3})?$/.test(range)) {
      problem.textContent = "Enter the IP range as one CIDR range, e.g. 203.0.113.0/24 or 2001:db8::/32."; return;
    }
    if (asPage.checked && passphrase.value && passphrase.value.length < 8) {
      problem.textContent = "A passphrase has at least 8 characters."; return;
    }
    const kind = current();
    const adapter = KIND_ADAPTERS[kind.kind] || KIND_ADAPTERS.default;
    const spec = { bucket, keys: folder === null ? keys : [folder], kind: kind.kind, expiresIn: seconds,
      mode: modeDownload.checked && !modeDownload.disabled ? "download" : "view",
      maxUses: uses, ipRange: range || null, folder, access: accessWrite.checked ? "write" : "read", listing: listing.checked,
      filename: keys.length === 1 && filename.value.trim() ? filename.value.trim() : null };
    generate.disabled = true;
    try {
      const items = await mint(kind, spec);
      if (asPage.checked && adapter.sharePage) {
        for (const item of items) {
          if (!item.url || !item.link) continue;
          const page = await call("POST", "/shares", { link_id: item.link.id, passphrase: passphrase.value || null });
          item.url = page.url;
        }
      }
      showResults(results, items, adapter.once);
      results.scrollIntoView({ block: "nearest" });
      const ready = items.filter((i) => i.url);
      if (ready.length === 1) copyText(ready[0].url, results.querySelector("input.url"));  // one link: on the clipboard at once, as IONOS does
    } catch (err) {
      problem.textContent = errorText(err);
      if (err.message && err.message.startsWith(NO_KEY)) offerKey(kind);
    } finally {
      generate.disabled = false;
    }
  } },
  field("Link kind", kindSelect),
  accessSet,
  modeSet,
  el("fieldset", {}, el("legend", {}, "Expires in"),
    el("div", { class: "row" }, el("label", { for: "share-amount", class: "sr-only" }, "Amount"), amount,
      el("label", { for: "share-unit", class: "sr-only" }, "Unit"), unit), presets, capNote),
  filenameField,
  field("Maximum uses", maxUses, "Leave empty for no limit."),
  el("div", { class: "field" }, el("label", { for: "share-ip" }, "IP range"), ipRange, ipHint),
  pageFields,
  problem,
  fix,
  el("div", { class: "actions" }, generate));

  const what = folder !== null ? (folder ? `folder ${folder}` : `bucket ${bucket}`)
    : keys.length === 1 ? keys[0].split("/").pop() : `${keys.length} objects`;
  openDialog(`Share ${what}`,
    el("p", { class: "muted" }, folder !== null ? `One pre-authenticated request for everything in ${folder ? `${bucket}/${folder}` : `bucket ${bucket}`}.`
      : [`From bucket ${bucket}: `, keys.join(", ")]),
    form, results,
    el("details", { class: "checklist" }, el("summary", {}, "Before you send: security checklist"),
      el("ul", {}, CHECKLIST.map((line) => el("li", {}, line)))));
  kindSelect.focus();
}

function showResults(box, items, once) {
  const urls = items.filter((i) => i.url).map((i) => i.url);
  const rows = items.map((item, index) => {
    if (!item.url) {
      return el("li", { class: "result" }, el("strong", {}, item.key), ": ",
        el("span", { class: "error" }, item.error ? item.error.message : "refused"));
    }
    const input = el("input", { readonly: true, value: item.url, id: `share-url-${index}`, class: "url",
      "aria-label": `Link to ${item.key}` });
    return el("li", { class: "result" }, el("label", { for: input.id }, item.key),
      el("div", { class: "row" }, input,
        el("button", { type: "button", class: "copy", onclick: () => copyText(item.url, input) }, "Copy")));
  });
  fill(box, el("h3", {}, `${urls.length} link${urls.length === 1 ? "" : "s"} ready`),
    once && urls.length ? el("p", { class: "warning", id: "share-once" },
      "Copy these URLs now: they are shown only this once (the server keeps no copy). Delete one on the Links page.") : null,
    el("ul", { class: "results" }, rows),
    urls.length > 1 ? el("button", { type: "button", id: "share-copy-all", onclick: () => copyText(urls.join("\n")) },
      "Copy all") : null);
}

