// Small DOM helpers: elements are built with textContent, never from HTML strings (no injection).

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "class") node.className = value;
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

// Replace a node's children, skipping empty ones (null, false: optional parts of a page).
export function fill(node, ...children) {
  clear(node).append(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

export function when(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const date = new Date(seconds * 1000);
  return el("time", { datetime: date.toISOString(), title: date.toISOString() }, date.toLocaleString());
}

export function bytes(size) {
  if (size === null || size === undefined) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = size;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function duration(seconds) {
  const units = [[86400, "day"], [3600, "hour"], [60, "minute"], [1, "second"]];
  for (const [size, name] of units) {
    if (seconds >= size && seconds % size === 0) {
      const n = seconds / size;
      return `${n} ${name}${n === 1 ? "" : "s"}`;
    }
  }
  return `${seconds} seconds`;
}

let toastTimer = null;
export function toast(message, kind = "info") {
  const box = document.getElementById("toast");
  box.textContent = message;
  box.className = `toast show ${kind}`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.className = "toast"; }, 5000);
}

export function errorText(err) {
  return err && err.message ? err.message : String(err);
}

export function openDialog(title, ...content) {
  const dialog = document.getElementById("dialog");
  document.getElementById("dialog-title").textContent = title;
  fill(document.getElementById("dialog-body"), ...content);
  if (!dialog.open) dialog.showModal();
  return dialog;
}

export function closeDialog() {
  const dialog = document.getElementById("dialog");
  if (dialog.open) dialog.close();
}

// A confirmation as a dialog (never window.confirm: it cannot be styled or tested).
export function confirmAction(title, message, action, label = "Confirm", danger = true) {
  return new Promise((resolve) => {
    const problem = el("p", { class: "error", role: "alert" });
    const go = el("button", {
      type: "button", class: danger ? "danger" : "primary", id: "confirm-yes",
      onclick: async () => {
        go.disabled = true;
        try { await action(); closeDialog(); resolve(true); } catch (err) {
          problem.textContent = errorText(err);
          go.disabled = false;
        }
      },
    }, label);
    openDialog(title, el("p", {}, message), problem,
      el("div", { class: "actions" },
        el("button", { type: "button", onclick: () => { closeDialog(); resolve(false); } }, "Cancel"), go));
    go.focus();
  });
}

export async function copyText(text, input) {
  try {
    await navigator.clipboard.writeText(text);
    toast("Copied to the clipboard.");
    return;
  } catch (err) {
    // Not allowed here (no user gesture, an insecure origin): select the text and copy that way.
  }
  if (input) {
    input.select();
    if (document.execCommand("copy")) { toast("Copied to the clipboard."); return; }
  }
  toast("The browser did not allow copying: select the link and copy it.", "error");
}

export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  return el("div", { class: "field" }, el("label", { for: id }, label), control,
    hint ? el("small", { class: "muted" }, hint) : null);
}

export function table(headers, rows, empty = "Nothing here yet.") {
  if (!rows.length) return el("p", { class: "empty muted" }, empty);
  return el("div", { class: "table-wrap" }, el("table", {},
    el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows)));
}
