// The share dialog: one or many objects, a link kind from the server's capabilities, view or download,
// expiry as number + unit (presets 15 min, 1 h, 24 h, 7 d) capped by the bucket's ceiling, max uses,
// optionally a share page with a passphrase; one URL per object with copy buttons and "copy all".
import { call } from "./api.js";
import { el, fill, copyText, duration, errorText, openDialog, field } from "./ui.js";

// How each link kind is minted. A kind whose mint call takes LinkRequest and answers MintResult (the S3
// presigned kinds) needs no adapter; PAR and Swift TempURL add theirs here when they land, keyed by the
// `kind` that GET /capabilities lists: request(spec) -> body, results(answer) -> [{key, url, link, error}].
export const KIND_ADAPTERS = {
  default: {
    request: (spec) => ({
      bucket: spec.bucket, keys: spec.keys, kind: spec.kind, expires_in: spec.expiresIn, mode: spec.mode,
      max_uses: spec.maxUses || null, filename: spec.mode === "download" ? spec.filename : null,
    }),
    results: (answer) => answer.links,
  },
};

const UNITS = [["seconds", 1], ["minutes", 60], ["hours", 3600], ["days", 86400]];
const PRESETS = [["15 min", 15, 60], ["1 hour", 1, 3600], ["24 hours", 24, 3600], ["7 days", 7, 86400]];
const CHECKLIST = [
  "Is this the exact object the recipient should see?",
  "Does the file contain personal or customer data?",
  "Is the expiry short enough (15 minutes for a hand-off, 1 hour for troubleshooting, 24 hours for normal downloads)?",
  "Will the link go through a secure channel, to the intended people only?",
  "If it is sent by mistake: revoke it on the Links page (every use is on the Audit page).",
];

async function ceiling(bucket, serverMax) {
  // The bucket list carries each bucket's ceiling (its link policy needs control of the bucket).
  const { buckets } = await call("GET", "/buckets");
  const entry = buckets.find((b) => b.name === bucket);
  if (entry && entry.max_link_lifetime) return { seconds: Math.min(entry.max_link_lifetime, serverMax), bucket: true };
  return { seconds: serverMax, bucket: false };
}

export async function openShareDialog(bucket, keys, capabilities) {
  const kinds = capabilities.link_kinds;
  const cap = await ceiling(bucket, capabilities.max_link_lifetime);
  const kindSelect = el("select", { id: "share-kind" },
    kinds.map((k) => el("option", { value: k.kind }, k.label)));
  const modeView = el("input", { type: "radio", name: "share-mode", value: "view", id: "share-mode-view", checked: true });
  const modeDownload = el("input", { type: "radio", name: "share-mode", value: "download", id: "share-mode-download" });
  // One object downloaded: its saved name may differ from the key's last segment.
  const filename = el("input", { id: "share-filename", value: keys[0].split("/").pop(), disabled: true });
  const filenameField = keys.length === 1 ? field("Saved file name", filename, "For download links.") : null;
  for (const radio of [modeView, modeDownload]) {
    radio.addEventListener("change", () => { filename.disabled = !modeDownload.checked; });
  }
  const amount = el("input", { type: "number", id: "share-amount", min: "1", value: "1", inputmode: "numeric", required: true });
  const unit = el("select", { id: "share-unit" }, UNITS.map(([name, size]) =>
    el("option", { value: String(size), selected: size === 3600 }, name)));
  const capNote = el("p", { class: "muted small", id: "share-cap" },
    cap.bucket ? `This bucket's links live at most ${duration(cap.seconds)}.`
      : `Links live at most ${duration(cap.seconds)} on this server.`);
  const maxUses = el("input", { type: "number", id: "share-max-uses", min: "1", placeholder: "unlimited", inputmode: "numeric" });
  const ipRange = el("input", { id: "share-ip", placeholder: "e.g. 203.0.113.0/24", disabled: true });
  const ipHint = el("small", { class: "muted" }, "Not offered by this link kind.");
  const asPage = el("input", { type: "checkbox", id: "share-page" });
  const passphrase = el("input", { type: "password", id: "share-passphrase", autocomplete: "new-password", disabled: true,
    placeholder: "optional, 8 characters or more" });
  asPage.addEventListener("change", () => { passphrase.disabled = !asPage.checked; });
  const problem = el("p", { class: "error", role: "alert", id: "share-error" });
  const results = el("div", { id: "share-results" });

  const updateKind = () => {
    const kind = kinds.find((k) => k.kind === kindSelect.value) || kinds[0];
    ipRange.disabled = !kind.ip_range;
    ipHint.textContent = kind.ip_range ? "Only these addresses may use the link." : "Not offered by this link kind.";
    maxUses.disabled = !kind.max_uses;
    modeDownload.disabled = !kind.modes.includes("download");
  };
  kindSelect.addEventListener("change", updateKind);
  updateKind();

  const presets = el("div", { class: "presets", role: "group", "aria-label": "Expiry presets" },
    PRESETS.map(([label, n, size]) => el("button", { type: "button", class: "chip", onclick: () => {
      amount.value = String(n);
      unit.value = String(size);
    } }, label)));

  const generate = el("button", { type: "submit", class: "primary", id: "share-generate" }, "Generate links");
  const form = el("form", { class: "stack", novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    problem.textContent = "";
    const seconds = Number(amount.value) * Number(unit.value);
    if (!Number.isInteger(seconds) || seconds < 1) { problem.textContent = "Enter an expiry of at least 1 second."; return; }
    if (seconds > cap.seconds) {
      problem.textContent = `That is longer than allowed here: at most ${duration(cap.seconds)}.`;
      return;
    }
    const uses = maxUses.value ? Number(maxUses.value) : null;
    if (uses !== null && (!Number.isInteger(uses) || uses < 1)) { problem.textContent = "Maximum uses must be a whole number from 1."; return; }
    if (asPage.checked && passphrase.value && passphrase.value.length < 8) {
      problem.textContent = "A passphrase has at least 8 characters."; return;
    }
    const kind = kinds.find((k) => k.kind === kindSelect.value);
    const adapter = KIND_ADAPTERS[kind.kind] || KIND_ADAPTERS.default;
    const spec = { bucket, keys, kind: kind.kind, expiresIn: seconds, mode: modeDownload.checked ? "download" : "view",
      maxUses: uses, ipRange: ipRange.value || null,
      filename: keys.length === 1 && filename.value.trim() ? filename.value.trim() : null };
    generate.disabled = true;
    try {
      const answer = await call("POST", kind.endpoint, adapter.request(spec));
      const items = adapter.results(answer);
      if (asPage.checked) {
        for (const item of items) {
          if (!item.url || !item.link) continue;
          const page = await call("POST", "/shares", { link_id: item.link.id, passphrase: passphrase.value || null });
          item.url = page.url;
        }
      }
      showResults(results, items);
      results.scrollIntoView({ block: "nearest" });
      const ready = items.filter((i) => i.url);
      if (ready.length === 1) copyText(ready[0].url, results.querySelector("input.url"));  // one link: on the clipboard at once, as IONOS does
    } catch (err) {
      problem.textContent = errorText(err);
    } finally {
      generate.disabled = false;
    }
  } },
  field("Link kind", kindSelect),
  el("fieldset", { class: "inline" }, el("legend", {}, "Mode"),
    el("label", {}, modeView, " View in the browser"), el("label", {}, modeDownload, " Download with its file name")),
  el("fieldset", {}, el("legend", {}, "Expires in"),
    el("div", { class: "row" }, el("label", { for: "share-amount", class: "sr-only" }, "Amount"), amount,
      el("label", { for: "share-unit", class: "sr-only" }, "Unit"), unit), presets, capNote),
  filenameField,
  field("Maximum uses", maxUses, "Leave empty for no limit."),
  el("div", { class: "field" }, el("label", { for: "share-ip" }, "IP range"), ipRange, ipHint),
  el("label", { class: "check" }, asPage, " Send as a share page (file name, preview and download button)"),
  field("Share page passphrase", passphrase),
  problem,
  el("div", { class: "actions" }, generate));

  openDialog(`Share ${keys.length === 1 ? keys[0].split("/").pop() : `${keys.length} objects`}`,
    el("p", { class: "muted" }, `From bucket ${bucket}: `, keys.join(", ")),
    form, results,
    el("details", { class: "checklist" }, el("summary", {}, "Before you send: security checklist"),
      el("ul", {}, CHECKLIST.map((line) => el("li", {}, line)))));
  kindSelect.focus();
}

function showResults(box, items) {
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
    el("ul", { class: "results" }, rows),
    urls.length > 1 ? el("button", { type: "button", id: "share-copy-all", onclick: () => copyText(urls.join("\n")) },
      "Copy all") : null);
}

