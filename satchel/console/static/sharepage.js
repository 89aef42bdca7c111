// The share page /s/{id}: times in the reader's time zone, sizes readable.
for (const node of document.querySelectorAll("time[datetime]")) {
  const seconds = Number(node.getAttribute("datetime"));
  if (Number.isFinite(seconds)) {
    const date = new Date(seconds * 1000);
    node.textContent = date.toLocaleString();
    node.setAttribute("datetime", date.toISOString());
  }
}
for (const node of document.querySelectorAll("[data-bytes]")) {
  let value = Number(node.getAttribute("data-bytes"));
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  node.textContent = unit === 0 ? `${value} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}
